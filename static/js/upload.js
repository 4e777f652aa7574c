// Uploads the chosen or dropped files one by one with XMLHttpRequest, showing each one's
// progress, then reloads the page. Without JavaScript the form posts normally (all at once).
(function () {
  "use strict";
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var box = form.querySelector(".upload-progress");
    var bar = box.querySelector("progress");
    var status = box.querySelector(".upload-status");
    var button = form.querySelector("button[type=submit]");
    var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10) || 0;
    var token = form.querySelector("input[name=csrf_token]").value;

    function say(key, name) {
      status.textContent = (status.getAttribute("data-text-" + key) || "").replace("{name}", name || "");
    }

    function send(files, index, failed) {
      if (index >= files.length) {
        button.disabled = false;
        if (!failed) { say("done"); window.location.reload(); }
        return;
      }
      var file = files[index];
      if (maxBytes && file.size > maxBytes) {
        say("too-large", file.name);
        button.disabled = false;
        return;
      }
      var data = new FormData();
      data.append("csrf_token", token);
      data.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) { bar.value = Math.round(100 * event.loaded / event.total); }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          bar.value = 100;
          send(files, index + 1, failed);
          return;
        }
        var message = null;
        try { message = JSON.parse(xhr.responseText).error.message; } catch (e) { message = null; }
        status.textContent = file.name + ": " + (message || status.getAttribute("data-text-failed"));
        button.disabled = false;
      });
      xhr.addEventListener("error", function () {
        status.textContent = file.name + ": " + status.getAttribute("data-text-failed");
        button.disabled = false;
      });
      bar.value = 0;
      say("uploading", file.name);
      xhr.send(data);
    }

    function start(files) {
      if (!files || !files.length) { return; }
      box.hidden = false;
      button.disabled = true;
      send(Array.prototype.slice.call(files), 0, false);
    }

    form.addEventListener("submit", function (event) {
      if (!input.files || !input.files.length || !window.FormData) { return; }
      event.preventDefault();
      start(input.files);
    });
    // Choosing files starts at once: the button is for browsers without this script.
    input.addEventListener("change", function () { if (window.FormData) { start(input.files); } });

    var zone = form.querySelector("[data-dropzone]");
    if (!zone || !window.FormData) { return; }
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      start(event.dataTransfer && event.dataTransfer.files);
    });
  });
})();
