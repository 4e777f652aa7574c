// Repeatable metadata fields: add and remove value rows, keeping field names numbered.
(function () {
  "use strict";
  function renumber(fieldset) {
    var term = fieldset.getAttribute("data-term");
    fieldset.querySelectorAll(".row").forEach(function (row, i) {
      row.querySelectorAll("[name]").forEach(function (el) {
        el.name = el.name.replace(/^dc\.[A-Za-z]+\.\d+\./, "dc." + term + "." + i + ".");
      });
    });
  }
  document.querySelectorAll("fieldset.term[data-repeatable]").forEach(function (fieldset) {
    var rows = fieldset.querySelector(".rows");
    var add = fieldset.querySelector(".add-row");
    // "Remove" shows only where there is more than one value.
    function showRemoves() {
      var all = rows.querySelectorAll(".row");
      all.forEach(function (row) {
        var remove = row.querySelector(".remove-row");
        if (remove) { remove.hidden = all.length < 2; }
      });
    }
    function wire(row) {
      var remove = row.querySelector(".remove-row");
      if (!remove) { return; }
      remove.addEventListener("click", function () {
        row.remove();
        renumber(fieldset);
        showRemoves();
        var first = rows.querySelector("input, textarea, select");
        if (first) { first.focus(); }
      });
    }
    rows.querySelectorAll(".row").forEach(wire);
    showRemoves();
    add.hidden = false;
    add.addEventListener("click", function () {
      var last = rows.querySelector(".row:last-child");
      var copy = last.cloneNode(true);
      copy.querySelectorAll("input, textarea").forEach(function (el) { el.value = ""; });
      copy.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
      rows.appendChild(copy);
      wire(copy);
      renumber(fieldset);
      showRemoves();
      var first = copy.querySelector("input, textarea, select");
      if (first) { first.focus(); }
    });
  });
})();

// A new deposit: who will read it, by the chosen collection's default access.
(function () {
  "use strict";
  var select = document.querySelector("select[data-collection-access]");
  if (!select) { return; }
  var note = document.getElementById(select.getAttribute("aria-describedby"));
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    note.querySelector(".who").textContent = option.getAttribute("data-access");
    note.querySelector(".not-public-note").hidden = option.getAttribute("data-public") === "1";
  });
})();
