// Queries listed above a form (templates/queries/_record_queries.html) are also shown beside the
// label of the field they are on; without this script they stay listed above the form.
document.querySelectorAll("[data-place-beside]").forEach(function (item) {
  var id = item.getAttribute("data-place-beside");
  var label = document.querySelector('label[for="' + id + '"]');
  if (!label) {
    // A group of radio buttons or checkboxes is named by the legend of its fieldset (crispy forms).
    var group = document.getElementById("div_" + id);
    label = group ? group.querySelector("legend") : null;
  }
  var badges = item.querySelector("[data-field-queries]");
  if (label && badges) {
    var copy = badges.cloneNode(true);
    copy.removeAttribute("id");
    copy.setAttribute("data-placed", "1");
    label.appendChild(copy);
  }
});
