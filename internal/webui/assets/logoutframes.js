// Leaves the signed-out page for the relying party's
// post_logout_redirect_uri once the front-channel logout iframes have
// loaded (OpenID Connect Front-Channel Logout 1.0 §4: the OP renders the
// iframes and then redirects), or after a timeout so that one slow or dead
// relying party cannot keep the user here. The window's load event fires
// only after every iframe of the page has loaded. Served from our origin
// so that the page's CSP needs no inline script; without JavaScript the
// Continue link stays.
(function () {
  var timeoutMs = 5000;
  var done = false;
  function leave() {
    if (done) { return; }
    done = true;
    var link = document.getElementById("message-link");
    if (link && link.href) { window.location.assign(link.href); }
  }
  if (document.readyState === "complete") {
    leave();
    return;
  }
  window.addEventListener("load", leave);
  window.setTimeout(leave, timeoutMs);
})();
