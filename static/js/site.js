// Every page: the menu button of the narrow header (under 768 px the menu folds behind it).
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");
  // Tables with headings reflow into labelled cards on narrow screens (app.css).
  document.querySelectorAll("table.table").forEach(function (table) {
    var headings = table.querySelectorAll("thead th");
    if (!headings.length) { return; }
    table.classList.add("reflow");
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var cells = row.children;
      if (cells.length !== headings.length) { return; }
      for (var i = 0; i < cells.length; i++) {
        cells[i].setAttribute("data-label", headings[i].textContent.trim());
      }
    });
  });
  var toggle = document.querySelector(".menu-toggle");
  var menu = document.getElementById("site-menu");
  if (!toggle || !menu) { return; }
  toggle.hidden = false;
  function setOpen(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
  }
  toggle.addEventListener("click", function () {
    setOpen(toggle.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      toggle.focus();
    }
  });
})();
