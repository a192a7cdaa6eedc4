/* CTCAE v3.0 term typeahead for the adverse event form (protocol section 10).
 *
 * The visible input searches the term list (ctcae_term_search, JSON); picking a term puts its id
 * in the hidden field named by data-target and its category in the element named by
 * data-category. Typing again clears the choice. Without JavaScript the server reads the typed
 * text instead ("Term (CODE)", a code, or an exact term). No dependencies.
 */
(function () {
  "use strict";

  var MIN_LENGTH = 2;
  var DELAY_MS = 200;
  var config = document.getElementById("ctcae-search-config");

  function setup(input) {
    var url = input.dataset.url || (config && config.dataset.url);
    var hidden = document.getElementById(input.dataset.target);
    var category = document.getElementById(input.dataset.category);
    if (!url || !hidden || input.disabled) {
      return;
    }
    var list = document.createElement("ul");
    list.className = "list-group shadow ctcae-results";
    list.id = input.id + "-results";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.insertAdjacentElement("afterend", list);

    var results = [];
    var active = -1;
    var timer = null;
    var latest = "";

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      active = -1;
    }

    function highlight(index) {
      var rows = list.querySelectorAll("li[role=option]");
      rows.forEach(function (row, i) {
        row.classList.toggle("active", i === index);
        row.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (rows[index]) {
        rows[index].scrollIntoView({ block: "nearest" });
      }
    }

    function choose(item) {
      input.value = item.term + " (" + item.code + ")";
      hidden.value = item.id;
      if (category) {
        category.textContent = item.category;
      }
      close();
      input.dispatchEvent(new CustomEvent("ctcae:chosen", { bubbles: true, detail: item }));
    }

    function render(items) {
      results = items;
      list.textContent = "";
      if (!items.length) {
        var empty = document.createElement("li");
        empty.className = "list-group-item small text-muted";
        // The page gives the message in its language (data-empty on #ctcae-search-config).
        empty.textContent = (config && config.dataset.empty) ||
          "No CTCAE v3.0 term matches; try another word or the category's '-other' term.";
        list.appendChild(empty);
      }
      items.forEach(function (item, index) {
        var row = document.createElement("li");
        row.className = "list-group-item list-group-item-action py-1";
        row.setAttribute("role", "option");
        row.id = list.id + "-" + index;
        var name = document.createElement("span");
        name.className = "fw-semibold";
        name.textContent = item.term;
        var detail = document.createElement("span");
        detail.className = "small text-muted ms-2";
        detail.textContent = item.category + " · " + item.code;
        row.appendChild(name);
        row.appendChild(detail);
        // mousedown, not click: it fires before the input loses focus and closes the list.
        row.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(item);
        });
        list.appendChild(row);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    function search(query) {
      latest = query;
      fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : [];
        })
        .then(function (items) {
          if (query === latest && document.activeElement === input) {
            render(items);
          }
        })
        .catch(function () {
          close();
        });
    }

    input.addEventListener("input", function () {
      hidden.value = "";
      if (category) {
        category.textContent = "—";
      }
      clearTimeout(timer);
      var query = input.value.trim();
      if (query.length < MIN_LENGTH) {
        close();
        return;
      }
      timer = setTimeout(function () {
        search(query);
      }, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      if (list.hidden || !results.length) {
        return;
      }
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight(Math.min(active + 1, results.length - 1));
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        choose(results[active]);
      } else if (event.key === "Escape") {
        close();
      }
    });

    input.addEventListener("blur", function () {
      setTimeout(close, 100);
    });
  }

  document.querySelectorAll("input[data-ctcae-search]").forEach(setup);
})();
