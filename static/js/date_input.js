// ISO dates in every language: a date (or date and time) is typed as 2026-12-02 (08:30), and a
// small calendar beside the field picks the day. The browser's own date input is not used: it
// shows the browser's locale format (mm/dd/yyyy in an American browser) whatever the page's
// language. Month and weekday names come from the page's language (Intl); weeks start on Monday.
// The calendar button takes no Tab stop: a keyboard types the date.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var open = null; // the calendar shown now: {box, input}

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }
  function iso(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }
  function parse(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec((text || "").trim());
    if (!m) return null;
    var d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    return d.getMonth() === Number(m[2]) - 1 ? d : null;
  }
  function timePart(text) {
    var m = /[ T](\d{2}:\d{2})/.exec(text || "");
    return m ? m[1] : "";
  }

  function close() {
    if (open) {
      open.box.remove();
      open.button.setAttribute("aria-expanded", "false");
      open = null;
    }
  }

  function choose(input, day) {
    var value = iso(day);
    // A date and time keeps the time typed (or leaves the cursor after the date for it).
    if (input.dataset.isoDate === "datetime") value += " " + timePart(input.value);
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    close();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  function render(state) {
    var box = state.box;
    var input = state.input;
    box.textContent = "";
    var head = document.createElement("div");
    head.className = "iso-calendar-head";
    var previous = document.createElement("button");
    previous.type = "button";
    previous.className = "btn btn-sm btn-link";
    previous.textContent = "‹";
    previous.setAttribute("aria-label", input.dataset.calendarPrevious || "");
    var next = previous.cloneNode(false);
    next.textContent = "›";
    next.setAttribute("aria-label", input.dataset.calendarNext || "");
    var title = document.createElement("span");
    title.className = "iso-calendar-title";
    title.textContent = new Intl.DateTimeFormat(lang, { year: "numeric", month: "long" }).format(state.month);
    previous.addEventListener("click", function () {
      state.month = new Date(state.month.getFullYear(), state.month.getMonth() - 1, 1);
      render(state);
    });
    next.addEventListener("click", function () {
      state.month = new Date(state.month.getFullYear(), state.month.getMonth() + 1, 1);
      render(state);
    });
    head.append(previous, title, next);
    box.append(head);

    var grid = document.createElement("div");
    grid.className = "iso-calendar-grid";
    grid.setAttribute("role", "grid");
    var weekday = new Intl.DateTimeFormat(lang, { weekday: "narrow" });
    for (var w = 0; w < 7; w++) {
      var name = document.createElement("span");
      name.className = "iso-calendar-weekday";
      name.textContent = weekday.format(new Date(2024, 0, 1 + w)); // 2024-01-01 was a Monday
      grid.append(name);
    }
    var first = state.month;
    var lead = (first.getDay() + 6) % 7;
    for (var i = 0; i < lead; i++) grid.append(document.createElement("span"));
    var days = new Date(first.getFullYear(), first.getMonth() + 1, 0).getDate();
    var chosen = parse(input.value);
    var today = iso(new Date());
    for (var n = 1; n <= days; n++) {
      var day = new Date(first.getFullYear(), first.getMonth(), n);
      var cell = document.createElement("button");
      cell.type = "button";
      cell.className = "iso-calendar-day";
      cell.dataset.date = iso(day);
      cell.textContent = String(n);
      if (chosen && iso(chosen) === iso(day)) cell.classList.add("chosen");
      if (iso(day) === today) cell.classList.add("today");
      cell.addEventListener("click", choose.bind(null, input, day));
      grid.append(cell);
    }
    box.append(grid);
  }

  function show(input, button) {
    close();
    var chosen = parse(input.value) || new Date();
    var box = document.createElement("div");
    box.className = "iso-calendar shadow";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", input.dataset.calendarLabel || "");
    box.addEventListener("click", function (event) {
      event.stopPropagation(); // a month button is re-drawn under the click: not a click outside
    });
    input.parentElement.append(box);
    open = { box: box, input: input, button: button, month: new Date(chosen.getFullYear(), chosen.getMonth(), 1) };
    button.setAttribute("aria-expanded", "true");
    render(open);
  }

  function enhance(input) {
    var wrap = document.createElement("div");
    wrap.className = "iso-date input-group";
    input.parentNode.insertBefore(wrap, input);
    wrap.append(input);
    var button = document.createElement("button");
    button.type = "button";
    button.tabIndex = -1;
    button.className = "btn btn-outline-secondary iso-calendar-button";
    button.setAttribute("aria-label", input.dataset.calendarLabel || "");
    button.setAttribute("aria-expanded", "false");
    button.title = input.dataset.calendarLabel || "";
    button.textContent = "▦";
    button.addEventListener("click", function () {
      if (open && open.input === input) close();
      else show(input, button);
    });
    wrap.append(button);
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && open) {
      var input = open.input;
      close();
      input.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (open && !open.box.contains(event.target) && event.target !== open.button) close();
  });
  function start() {
    document.querySelectorAll("input[data-iso-date]").forEach(enhance);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
