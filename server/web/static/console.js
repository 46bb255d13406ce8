// The console's own script: time zone cookie, copy buttons, auto-submitting selects and
// drag-and-drop uploads. No inline script anywhere (the CSP forbids it).
"use strict";

(function () {
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch (e) { return ""; }
  }

  // The viewer's zone, for people who have not chosen one in their settings.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* no Intl: UTC */ }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) { el.form.submit(); }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.setAttribute("data-copied", "true");
      var done = button.getAttribute("data-done");
      if (done) { button.textContent = done; }
    }, function () { /* the text stays selectable */ });
  });

  function problemText(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      var lines = [body.detail || body.title];
      (body.errors || []).forEach(function (e) { lines.push(e.field + ": " + e.reason); });
      return lines.join(" — ");
    } catch (e) { return xhr.status + " " + xhr.statusText; }
  }

  function upload(zone, file) {
    var list = document.getElementById(zone.getAttribute("data-list"));
    var item = document.createElement("li");
    var name = document.createElement("span");
    name.textContent = file.name + " ";
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    var outcome = document.createElement("span");
    outcome.setAttribute("role", "status");
    item.appendChild(name); item.appendChild(bar); item.appendChild(outcome);
    list.appendChild(item);
    var data = new FormData();
    data.append("file", file, file.name);
    var org = document.getElementById(zone.getAttribute("data-org"));
    if (org && org.value) { data.append("organisation_id", org.value); }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", zone.getAttribute("data-url"));
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 200 || xhr.status === 201) {
        bar.value = 100;
        outcome.className = "ok";
        outcome.textContent = " " + zone.getAttribute("data-done");
        var grid = document.getElementById(zone.getAttribute("data-refresh"));
        if (grid && window.htmx) { window.htmx.trigger(grid, "refresh"); }
      } else {
        outcome.className = "bad";
        outcome.textContent = " " + zone.getAttribute("data-refused") + " " + problemText(xhr);
      }
    });
    xhr.addEventListener("error", function () {
      outcome.className = "bad";
      outcome.textContent = " " + zone.getAttribute("data-failed");
    });
    xhr.send(data);
  }

  function setUpDrop(zone) {
    var input = document.getElementById(zone.getAttribute("data-input"));
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      Array.prototype.forEach.call(e.dataTransfer.files, function (f) { upload(zone, f); });
    });
    if (input) {
      input.addEventListener("change", function () {
        Array.prototype.forEach.call(input.files, function (f) { upload(zone, f); });
        input.value = "";
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-drop]"), setUpDrop);
  });
})();
