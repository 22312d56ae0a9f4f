// Progressive enhancement only: copy buttons, auto-submitting selects,
// the JWT bearer warning, and unsaved-edit protection. Every form works
// without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-copy]").forEach(function (el) {
    if (!navigator.clipboard) { return; }
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary copy";
    b.textContent = "Copy";
    b.setAttribute("aria-label", "Copy " + (el.getAttribute("data-copy") || "value"));
    b.addEventListener("click", function () {
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        b.textContent = "Copied";
        setTimeout(function () { b.textContent = "Copy"; }, 1500);
      });
    });
    el.insertAdjacentElement("afterend", b);
  });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
  // The JWT bearer "all users" warning follows the selected radio button;
  // without script it reflects the saved setting.
  var warning = document.querySelector("[data-pre-auth-warning]");
  document.querySelectorAll("input[data-pre-auth]").forEach(function (r) {
    r.addEventListener("change", function () {
      if (warning) { warning.hidden = !(r.checked && r.value === "all_users"); }
    });
  });
  // Warnings that follow one check box (token exchange impersonation);
  // without script they reflect the saved setting.
  document.querySelectorAll("[data-warning-for]").forEach(function (w) {
    var box = document.getElementById(w.getAttribute("data-warning-for"));
    if (box) { box.addEventListener("change", function () { w.hidden = !box.checked; }); }
  });
  // A page rendered by a POST that has its own address shows that
  // address, so a reload is a GET of it.
  var main = document.querySelector("main[data-url]");
  if (main && window.history && history.replaceState) {
    history.replaceState(null, "", main.getAttribute("data-url"));
  }
  trackEdits();
});

// Unsaved edits: a page may hold several forms, each saving its own
// section. Saving one section reloads the page, so the pending edits of
// the others are kept in sessionStorage (never passwords, files or CSRF
// tokens) and put back after the reload; the edits of a save the server
// refused are put back too. Leaving a page with unsaved edits asks first.
// Action forms (delete, rotate, send or enter a code) and the sign-in and
// setup forms carry data-action: they are neither tracked nor kept.
function trackEdits() {
  var KEY = "latchkey.unsaved";
  var forms = Array.prototype.filter.call(document.querySelectorAll("main form[method=post]"), function (f) {
    return !f.hasAttribute("data-action");
  });
  var submitting = false;
  function fields(f) {
    var out = {}, seen = {};
    Array.prototype.forEach.call(f.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.disabled) { return; }
      var t = (el.type || "").toLowerCase();
      if (t === "hidden" || t === "password" || t === "file" || t === "submit" || t === "button") { return; }
      var k;
      if (t === "checkbox" || t === "radio") {
        out[el.name + "=" + el.value] = el.checked;
        return;
      }
      seen[el.name] = (seen[el.name] || 0) + 1;
      k = el.name + "#" + seen[el.name];
      if (el.multiple) {
        out[k] = Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; }).join("\n");
      } else {
        out[k] = el.value;
      }
    });
    return out;
  }
  function apply(f, values) {
    var seen = {};
    Array.prototype.forEach.call(f.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.disabled) { return; }
      var t = (el.type || "").toLowerCase();
      if (t === "hidden" || t === "password" || t === "file" || t === "submit" || t === "button") { return; }
      if (t === "checkbox" || t === "radio") {
        var ck = el.name + "=" + el.value;
        if (Object.prototype.hasOwnProperty.call(values, ck)) { el.checked = values[ck]; }
        return;
      }
      seen[el.name] = (seen[el.name] || 0) + 1;
      var k = el.name + "#" + seen[el.name];
      if (!Object.prototype.hasOwnProperty.call(values, k)) { return; }
      if (el.multiple) {
        var want = values[k].split("\n");
        Array.prototype.forEach.call(el.options, function (o) { o.selected = want.indexOf(o.value) >= 0; });
      } else {
        el.value = values[k];
      }
    });
  }
  function same(a, b) {
    var ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) { return false; }
    return ka.every(function (k) { return a[k] === b[k]; });
  }
  function label(f) {
    var h = f.getAttribute("aria-labelledby") && document.getElementById(f.getAttribute("aria-labelledby"));
    h = h || f.querySelector("h2, legend") || f.closest(".card") && f.closest(".card").querySelector("h2");
    return h ? h.textContent.trim() : (document.querySelector("main h1") || {textContent: "this page"}).textContent.trim();
  }
  var initial = new Map();
  forms.forEach(function (f) { initial.set(f, fields(f)); });
  function dirty(f) { return !same(initial.get(f), fields(f)); }
  function mark(f) { f.classList.toggle("dirty", dirty(f)); f.toggleAttribute("data-dirty", dirty(f)); }

  // Put back what the previous page kept.
  var kept = null;
  try { kept = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { kept = null; }
  sessionStorage.removeItem(KEY);
  if (kept && Date.now() - kept.at < 10 * 60 * 1000) {
    var refused = document.querySelector("main .error, main .field-error") !== null;
    var names = [];
    forms.forEach(function (f) {
      var k = kept.forms[f.getAttribute("action")];
      if (!k || (k.submitted && !refused)) { return; }
      // Only onto the same fields: a form the server rebuilt (rows added
      // or removed) already shows what it was sent.
      if (Object.keys(k.values).sort().join("\n") !== Object.keys(fields(f)).sort().join("\n")) { return; }
      apply(f, k.values);
      if (dirty(f)) { names.push(label(f)); }
    });
    if (names.length) {
      var p = document.createElement("p");
      p.className = "notice kept";
      p.setAttribute("role", "status");
      p.id = "unsaved-kept";
      p.textContent = "Your unsaved changes were kept in: " + names.join("; ") + ". They are not saved yet: use that section's Save button.";
      // After the server's own notice and errors, before the page.
      var main = document.querySelector("main"), at = main.firstElementChild;
      while (at && (at.classList.contains("notice") || at.classList.contains("error"))) { at = at.nextElementSibling; }
      main.insertBefore(p, at);
    }
  }
  forms.forEach(function (f) {
    mark(f);
    f.addEventListener("input", function () { mark(f); });
    f.addEventListener("change", function () { mark(f); });
  });
  // Any form submitted from the page (including action forms) keeps the
  // other sections' pending edits, and its own in case it is refused.
  document.querySelectorAll("form[method=post]").forEach(function (sub) {
    sub.addEventListener("submit", function () {
      submitting = true;
      var store = {at: Date.now(), forms: {}};
      forms.forEach(function (f) {
        if (f === sub || dirty(f)) {
          store.forms[f.getAttribute("action")] = {submitted: f === sub, values: fields(f)};
        }
      });
      try { sessionStorage.setItem(KEY, JSON.stringify(store)); } catch (e) { /* storage full or off */ }
    });
  });
  window.addEventListener("beforeunload", function (e) {
    if (submitting) { return; }
    if (forms.some(dirty)) {
      e.preventDefault();
      e.returnValue = "";
    }
  });
}
