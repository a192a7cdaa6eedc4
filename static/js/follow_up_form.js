// The follow-up form (patients/treatment/follow_up_form.html): the death fields matter only
// when the vital status is "Dead".
(function () {
  const form = document.getElementById("follow-up-form");
  const death = document.getElementById("death-fields");
  if (!form || !death) { return; }
  function sync() {
    const checked = form.querySelector('input[name="vital_status"]:checked');
    death.hidden = !(checked && checked.value === "dead");
  }
  form.querySelectorAll('input[name="vital_status"]').forEach(function (el) { el.addEventListener("change", sync); });
  sync();
})();
