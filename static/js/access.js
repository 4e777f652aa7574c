// Access settings: show only the lists the chosen level uses (units, roles, users and groups).
(function () {
  "use strict";
  document.querySelectorAll("[data-access-fields]").forEach(function (box) {
    var summary = document.querySelector("[data-access-summary]");
    function update() {
      var chosen = box.querySelector("input[name=access_level]:checked");
      var level = chosen ? chosen.value : "";
      box.querySelectorAll("[data-when-level]").forEach(function (part) {
        part.hidden = part.getAttribute("data-when-level") !== level;
      });
      if (summary && chosen && chosen.hasAttribute("data-audience")) {
        summary.querySelector(".who").textContent = chosen.getAttribute("data-audience");
        summary.querySelector(".warning").hidden = level === "public";
        summary.classList.toggle("not-public", level !== "public");
      }
    }
    box.querySelectorAll("input[name=access_level]").forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    update();
  });
})();
