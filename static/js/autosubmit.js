// A select marked data-autosubmit sends its form when it changes (the site picker of the
// screening form); an inline onchange handler would be refused by the Content-Security-Policy.
document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
  el.addEventListener("change", function () { el.form.submit(); });
});
