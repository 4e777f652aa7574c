// Quiz attempt pages: saves each answer as it is chosen, and shows the time left.
// The server decides everything (the clock, what is saved); without this script the page
// works with its buttons, which save the answer on the way to another question.
(function () {
  "use strict";
  var form = document.querySelector("form.attempt-form");
  var timer = document.querySelector(".quiz-timer[data-remaining]");
  var token = document.querySelector("input[name=csrf_token]");

  // --- the clock ------------------------------------------------------------------------
  var endsAt = null;
  function setRemaining(seconds) {
    if (seconds === null || seconds === undefined) { return; }
    endsAt = Date.now() + seconds * 1000;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    if (endsAt === null) { return; }
    var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    var clock = timer.querySelector(".quiz-clock");
    if (clock) { clock.textContent = Math.floor(left / 60) + ":" + pad(left % 60); }
    if (left < 300) { timer.classList.add("is-short"); }
    if (left === 0) {
      endsAt = null;
      // The server has closed the attempt (or will on this request): show its result.
      setTimeout(function () { window.location.reload(); }, 1500);
    }
  }
  if (timer) {
    setRemaining(parseInt(timer.getAttribute("data-remaining"), 10));
    tick();
    setInterval(tick, 1000);
  }

  if (!form || !token) { return; }
  var status = form.querySelector(".save-status");
  var seqInput = form.querySelector("input[name=seq]");
  var base = parseInt(seqInput.value, 10);
  var counter = 0;
  function nextSeq() { counter += 1; return base + counter; }
  var slot = parseInt(form.getAttribute("data-slot"), 10);
  var kind = form.getAttribute("data-type");

  function say(key) { if (status) { status.textContent = status.getAttribute("data-" + key) || ""; } }

  function answer() {
    if (kind === "matching") {
      var pairs = {};
      form.querySelectorAll("select[name^='match-']").forEach(function (select) {
        pairs[select.name.slice(6)] = select.value;
      });
      return pairs;
    }
    var chosen = [];
    form.querySelectorAll("input[name=choice]:checked").forEach(function (input) {
      chosen.push(input.value);
    });
    return chosen;
  }

  function markAnswered() {
    var current = form.querySelector(".qnav.is-current");
    var given = answer();
    var any = Array.isArray(given) ? given.length > 0
      : Object.keys(given).some(function (k) { return given[k]; });
    if (current) { current.classList.toggle("is-answered", any); }
  }

  var retry = null;
  function save() {
    if (retry) { clearTimeout(retry); retry = null; }
    var body = JSON.stringify({ slot: slot, answer: answer(), seq: nextSeq() });
    say("saving");
    fetch(form.getAttribute("data-save"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "X-CSRFToken": token.value }
    }).then(function (response) {
      if (response.status === 409 || response.status === 404) { window.location.reload(); return null; }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      if (!data) { return; }
      say("saved");
      markAnswered();
      setRemaining(data.remaining_seconds);
    }).catch(function () {
      say("offline");
      retry = setTimeout(save, 5000);
    });
  }

  // A choice made while the page was still loading (before this script ran) fired no
  // change event here: anything that differs from what the server rendered is sent now.
  function changedBeforeLoad() {
    var inputs = form.querySelectorAll("input[name=choice]");
    for (var i = 0; i < inputs.length; i += 1) {
      if (inputs[i].checked !== inputs[i].defaultChecked) { return true; }
    }
    var selects = form.querySelectorAll("select[name^='match-']");
    for (var j = 0; j < selects.length; j += 1) {
      // With no option marked selected, a select shows its first one.
      var options = Array.prototype.slice.call(selects[j].options);
      var rendered = options.filter(function (o) { return o.defaultSelected; })[0] || options[0];
      if (rendered && selects[j].value !== rendered.value) { return true; }
    }
    return false;
  }
  if (changedBeforeLoad()) { save(); }

  form.addEventListener("change", function (event) {
    if (event.target.name === "choice" || (event.target.name || "").indexOf("match-") === 0) { save(); }
  });
  form.addEventListener("submit", function () {
    // The buttons post the answer too: with a number above any save this page sent.
    seqInput.value = nextSeq();
  });

  // Now and then, ask the server for the time left (another device may have submitted).
  setInterval(function () {
    fetch(form.getAttribute("data-state"), { credentials: "same-origin",
                                             headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (data.state !== "open") { window.location.href = data.result_url; return; }
        setRemaining(data.remaining_seconds);
      }).catch(function () {});
  }, 60000);
})();
