/* The adverse event form: seriousness criteria shown only for a serious event, and the
 * "Other, specify" text asked for when an '-other' CTCAE term (code ending 999) is chosen. */
(function () {
  "use strict";

  var form = document.getElementById("ae-form");
  if (!form) {
    return;
  }
  var criteria = document.getElementById("sae-criteria");
  var other = document.getElementById("id_other_specify");
  var search = document.getElementById("id_term_search");

  function serious() {
    var checked = form.querySelector("input[name=serious]:checked");
    return checked !== null && checked.value === "true";
  }

  function toggleCriteria() {
    if (criteria) {
      criteria.hidden = !serious();
    }
  }

  function markOther(code) {
    if (!other || other.disabled) {
      return;
    }
    var needed = /999$/.test(code || "");
    other.required = needed;
    other.classList.toggle("border-warning", needed);
    if (needed) {
      other.focus();
    }
  }

  form.querySelectorAll("input[name=serious]").forEach(function (radio) {
    radio.addEventListener("change", toggleCriteria);
  });
  toggleCriteria();

  form.addEventListener("ctcae:chosen", function (event) {
    markOther(event.detail.code);
  });
  if (search) {
    var match = /\(([A-Z]{2}\d{3})\)\s*$/.exec(search.value);
    if (match && /999$/.test(match[1])) {
      other.required = true;
    }
  }
})();
