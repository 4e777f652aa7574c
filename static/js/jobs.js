// Polls a job's JSON status and updates its progress bar until the job ends.
(function () {
  "use strict";
  document.querySelectorAll("[data-job-url]").forEach(function (box) {
    var url = box.getAttribute("data-job-url");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (!job) { return; }
          box.querySelector(".job-status").textContent = job.status_label || job.status;
          box.querySelector(".job-message").textContent = job.message || "";
          var bar = box.querySelector(".job-progress");
          if (job.progress.percent !== null) { bar.value = job.progress.percent; }
          if (job.status === "queued" || job.status === "running") { setTimeout(poll, 1000); }
          else if (box.hasAttribute("data-reload-when-done") && box.getAttribute("data-status") !== job.status) {
            window.location.reload();  // the page shows the job's result once it ended
          }
        });
    }
    poll();
  });
})();
