// The documents table (exports/_document_rows.html): each bar takes its width from data-progress
// (no inline style: the Content-Security-Policy allows none), and every unfinished document's
// status is polled until it is done or failed; the download link appears when it is ready.
(function () {
  function show(bar, progress) {
    bar.style.width = progress + "%";
    bar.textContent = progress + " %";
  }
  function poll(row) {
    fetch(row.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
      var bar = row.querySelector(".progress-bar");
      show(bar, s.progress);
      row.querySelector(".progress").setAttribute("aria-valuenow", s.progress);
      row.querySelector(".status-label").textContent = s.status_label + (s.error ? ": " + s.error : "");
      row.querySelector(".status-note").textContent = s.note || "";
      if (s.status === "done" || s.status === "failed") {
        bar.classList.remove("progress-bar-striped", "progress-bar-animated");
        bar.classList.add(s.status === "done" ? "bg-success" : "bg-danger");
        if (s.download_url) {
          var link = document.createElement("a");
          link.className = "btn btn-sm btn-outline-primary";
          link.href = s.download_url;
          link.textContent = row.dataset.downloadLabel;
          row.querySelector(".download").replaceChildren(link);
        }
      } else { setTimeout(function () { poll(row); }, 1000); }
    });
  }
  document.querySelectorAll(".document-row").forEach(function (row) {
    var bar = row.querySelector(".progress-bar");
    show(bar, bar.dataset.progress);
    if (row.dataset.status === "queued" || row.dataset.status === "rendering") { poll(row); }
  });
})();
