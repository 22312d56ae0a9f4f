// Progressive enhancement only: copy buttons, auto-submitting selects and
// the JWT bearer warning. Every form works without it.
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
});
