// Submits the OAuth 2.0 Form Post response (OAuth 2.0 Form Post Response
// Mode §2): served from our origin so that the page's CSP needs no inline
// script.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("form-post");
  if (form) { form.submit(); }
});
