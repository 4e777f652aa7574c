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
    function wire(row) {
      var remove = row.querySelector(".remove-row");
      if (!remove) { return; }
      remove.hidden = false;
      remove.addEventListener("click", function () {
        if (rows.querySelectorAll(".row").length > 1) { row.remove(); }
        else { row.querySelectorAll("input, textarea, select").forEach(function (el) { el.value = ""; }); }
        renumber(fieldset);
      });
    }
    rows.querySelectorAll(".row").forEach(wire);
    add.hidden = false;
    add.addEventListener("click", function () {
      var last = rows.querySelector(".row:last-child");
      var copy = last.cloneNode(true);
      copy.querySelectorAll("input, textarea").forEach(function (el) { el.value = ""; });
      copy.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
      rows.appendChild(copy);
      wire(copy);
      renumber(fieldset);
      var first = copy.querySelector("input, textarea, select");
      if (first) { first.focus(); }
    });
  });
})();
