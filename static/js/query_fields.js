// The raise-query form: the field select offers the fields of the chosen record's form only.
(function () {
  "use strict";
  var target = document.querySelector("[data-query-target]");
  var field = document.querySelector("[data-query-field]");
  if (!target || !field) {
    return;
  }
  function formOf(value) {
    return value.split(":")[0];
  }
  function show() {
    var chosen = formOf(target.value);
    field.querySelectorAll("optgroup[data-form]").forEach(function (group) {
      var mine = group.getAttribute("data-form") === chosen;
      group.disabled = !mine;
      group.hidden = !mine;
    });
    var selected = field.options[field.selectedIndex];
    if (selected && selected.parentElement.tagName === "OPTGROUP" && selected.parentElement.disabled) {
      field.value = "";
    }
  }
  target.addEventListener("change", show);
  show();
})();
