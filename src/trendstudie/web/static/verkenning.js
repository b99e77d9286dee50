// Autosave for the verkenning's participant form: progressive enhancement only. Without this
// script the form saves with its button; with it, every change is saved within a second.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData || !window.URLSearchParams) { return; }
  var status = document.getElementById("autosave-status");
  var timer = null;
  var busy = false;
  var again = false;

  function say(text) { if (status) { status.textContent = text; } }

  function save() {
    if (busy) { again = true; return; }
    busy = true;
    say("Opslaan…");
    fetch(form.action, {
      method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
      headers: { "X-Autosave": "1", "Accept": "application/json" }
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (res.ok) {
        say("Opgeslagen om " + new Date().toLocaleTimeString("nl-NL", { hour: "2-digit", minute: "2-digit", second: "2-digit" }) + ".");
        form.setAttribute("data-saved", String(res.body.opgeslagen));
      } else {
        say("Niet opgeslagen: " + (res.body.fout || "onbekende fout") + " Gebruik de knop Opslaan.");
      }
    }).catch(function () {
      say("Niet opgeslagen (geen verbinding). Gebruik de knop Opslaan als de verbinding terug is.");
    }).then(function () {
      busy = false;
      if (again) { again = false; save(); }
    });
  }

  function later(delay) {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, delay);
  }

  form.addEventListener("change", function () { later(300); });
  form.addEventListener("input", function (e) {
    if (e.target && e.target.tagName === "TEXTAREA") { later(1200); }
  });
  say("Uw antwoorden worden automatisch opgeslagen.");
})();
