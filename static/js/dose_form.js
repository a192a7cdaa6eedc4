// The dose form (patients/treatment/dose_form.html): time and amount belong to a given dose
// only, so they are disabled (not posted) for a missed or held dose.
(function () {
  const form = document.getElementById("dose-form");
  const given = document.getElementById("given-fields");
  if (!form || !given) { return; }
  function sync() {
    const checked = form.querySelector('input[name="status"]:checked');
    const isGiven = !checked || checked.value === "given";
    given.querySelectorAll("input").forEach(function (el) { el.disabled = !isGiven; });
    given.classList.toggle("opacity-50", !isGiven);
  }
  form.querySelectorAll('input[name="status"]').forEach(function (el) { el.addEventListener("change", sync); });
  sync();
})();
