// Autocomplete for the search box: fills its <datalist> from /api/v1/suggest as the user types.
(function () {
  "use strict";
  var input = document.querySelector("input[data-suggest-url]");
  if (!input) { return; }
  var list = document.getElementById(input.getAttribute("list"));
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var words = input.value.split(/\s+/);
    var last = words[words.length - 1];
    if (last.length < 2) { return; }
    timer = setTimeout(function () {
      var url = input.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(last);
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) {
          var head = words.slice(0, -1).join(" ");
          list.textContent = "";
          data.suggestions.forEach(function (word) {
            var option = document.createElement("option");
            option.value = head ? head + " " + word : word;
            list.appendChild(option);
          });
        });
    }, 200);
  });
})();

// Changing the sort order submits its form (inline handlers are blocked by our CSP).
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  "use strict";
  select.addEventListener("change", function () { select.form.submit(); });
});

// On a narrow screen the filters panel starts folded: the results come first.
(function () {
  "use strict";
  var panel = document.querySelector(".facets-panel");
  if (panel && window.matchMedia("(max-width: 767.98px)").matches && !document.querySelector(".chips")) {
    panel.open = false;
  }
})();
