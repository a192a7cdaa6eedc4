// The language switch reloads the same page in the other language. What was typed in the page's
// forms and not yet saved is kept in sessionStorage for this address and put back after the
// reload, so switching the language never loses an entry. Hidden fields (the CSRF token, the
// record's version) come fresh from the server; passwords and files are never stored.
(function () {
  var KEY = "ecrf-language-switch";
  var SKIPPED = { hidden: 1, password: 1, file: 1, submit: 1, button: 1, reset: 1, image: 1 };
  var here = window.location.pathname + window.location.search;

  function fields() {
    var all = [];
    document.querySelectorAll("main form").forEach(function (form, formIndex) {
      var seen = {};
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || SKIPPED[el.type]) return;
        var n = seen[el.name] = (seen[el.name] || 0) + 1;
        all.push({ el: el, key: formIndex + "|" + el.name + "|" + n });
      });
    });
    return all;
  }

  function changed(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
    if (el.tagName === "SELECT") {
      return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    return el.value !== el.defaultValue;
  }

  function save() {
    var values = {};
    fields().forEach(function (f) {
      if (!changed(f.el)) return;
      if (f.el.type === "checkbox" || f.el.type === "radio") values[f.key] = { checked: f.el.checked };
      else if (f.el.multiple) {
        values[f.key] = { selected: Array.prototype.filter.call(f.el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; }) };
      } else values[f.key] = { value: f.el.value };
    });
    try { sessionStorage.setItem(KEY, JSON.stringify({ url: here, values: values })); } catch (e) { /* storage off */ }
  }

  function restore() {
    var saved;
    try { saved = JSON.parse(sessionStorage.getItem(KEY) || "null"); sessionStorage.removeItem(KEY); } catch (e) { return; }
    if (!saved || saved.url !== here) return;
    fields().forEach(function (f) {
      var v = saved.values[f.key];
      if (!v) return;
      if ("checked" in v) f.el.checked = v.checked;
      else if ("selected" in v) {
        Array.prototype.forEach.call(f.el.options, function (o) { o.selected = v.selected.indexOf(o.value) >= 0; });
      } else f.el.value = v.value;
      // The page's own scripts (shown/hidden sections, the term picker) follow the restored value;
      // a select that sends its form when it changes (data-autosubmit) is only set.
      if (f.el.hasAttribute("data-autosubmit")) return;
      f.el.dispatchEvent(new Event("input", { bubbles: true }));
      f.el.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  var form = document.getElementById("language-switch");
  if (form) form.addEventListener("submit", save);
  // After the page's own scripts (loaded below this one) have set up their listeners.
  document.addEventListener("DOMContentLoaded", restore);
})();
