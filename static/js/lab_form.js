// The lab panel page at the bedside (progressive enhancement: without it the form posts as usual).
// Enter in a field moves to the next value instead of submitting; Save shows that it is working
// and the form cannot be sent twice; closing "different time for this group" clears that time.
(function () {
  "use strict";
  var form = document.querySelector("form[data-lab-form]");
  if (!form) {
    return;
  }

  function values() {
    return Array.prototype.slice.call(form.querySelectorAll("input[data-lab-value]"));
  }

  function nextValueAfter(element) {
    var all = values();
    for (var i = 0; i < all.length; i += 1) {
      // The first value input after this element in the page's order.
      if (element.compareDocumentPosition(all[i]) & Node.DOCUMENT_POSITION_FOLLOWING) {
        return all[i];
      }
    }
    return document.getElementById("save-labs");
  }

  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || event.isComposing || target.tagName !== "INPUT") {
      return;
    }
    if (target.type === "submit" || target.type === "button" || target.type === "checkbox") {
      return;
    }
    event.preventDefault();
    var next = nextValueAfter(target);
    if (next) {
      next.focus();
      if (typeof next.select === "function") {
        next.select();
      }
    }
  });

  function buttons() {
    return Array.prototype.slice.call(form.querySelectorAll("button[type=submit]"));
  }

  function working(button) {
    var spinner = button.querySelector(".spinner-border");
    var label = button.querySelector(".label");
    if (spinner) {
      spinner.classList.remove("d-none");
    }
    if (label) {
      label.dataset.idleLabel = label.textContent;
      label.textContent = button.dataset.workingLabel || label.textContent;
    }
    button.setAttribute("aria-busy", "true");
  }

  form.addEventListener("submit", function (event) {
    if (form.dataset.submitting === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    var submitter = event.submitter || document.getElementById("save-labs");
    if (submitter && submitter.name) {
      // A disabled button is not sent with the form: its choice goes in a hidden field.
      var carried = document.createElement("input");
      carried.type = "hidden";
      carried.name = submitter.name;
      carried.value = submitter.value;
      carried.dataset.carried = "1";
      form.appendChild(carried);
    }
    buttons().forEach(function (button) {
      button.disabled = true;
    });
    if (submitter) {
      working(submitter);
    }
    var status = document.getElementById("save-status");
    if (status && submitter) {
      status.textContent = submitter.dataset.workingLabel || "";
    }
  });

  // Back from the next page: the page may come from the browser's cache, still "saving".
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) {
      return;
    }
    form.dataset.submitting = "";
    Array.prototype.slice.call(form.querySelectorAll("input[data-carried]")).forEach(function (input) {
      input.remove();
    });
    buttons().forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      var spinner = button.querySelector(".spinner-border");
      var label = button.querySelector(".label");
      if (spinner) {
        spinner.classList.add("d-none");
      }
      if (label && label.dataset.idleLabel) {
        label.textContent = label.dataset.idleLabel;
      }
    });
  });

  Array.prototype.slice.call(form.querySelectorAll("details[data-group-time]")).forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (details.open) {
        return;
      }
      // Closed: the group was sampled with the rest of the panel after all.
      Array.prototype.slice.call(details.querySelectorAll("input")).forEach(function (input) {
        input.value = "";
      });
    });
  });
})();

// The "⋯" menu of a value: out of the Tab order, so opening it moves the focus to its code; a
// chosen code empties the value (a value XOR a code); closing the menu clears code and reason.
(function () {
  "use strict";
  var form = document.querySelector("form[data-lab-form]");
  if (!form) {
    return;
  }
  Array.prototype.slice.call(form.querySelectorAll("details[data-missing-menu]")).forEach(function (menu) {
    var code = menu.querySelector("select[data-missing-code]");
    var reason = menu.querySelector("input[data-missing-reason]");
    var row = menu.closest("tr");
    var value = row ? row.querySelector("input[data-lab-value]") : null;
    menu.addEventListener("toggle", function () {
      if (menu.open) {
        if (code) {
          code.focus();
        }
        return;
      }
      if (code) {
        code.value = "";
      }
      if (reason) {
        reason.value = "";
      }
    });
    if (code) {
      code.addEventListener("change", function () {
        if (code.value && value) {
          value.value = "";
        }
        if (code.value && reason) {
          reason.focus();
        }
      });
    }
  });
})();
