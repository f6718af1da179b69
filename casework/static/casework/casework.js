// Behaviour for the project's pages, from a file: the Content-Security-Policy runs no inline
// event handlers. Delegated from the document, so it holds across Turbo's page changes.
document.addEventListener("change", function (event) {
  if (event.target.id === "cw-language") {
    event.target.form.submit();
  }
});

// A warning two minutes before the idle timeout signs the session out (config.middleware).
document.addEventListener("DOMContentLoaded", function () {
  var warning = document.getElementById("cw-idle-warning");
  if (!warning) {
    return;
  }
  var seconds = parseInt(warning.dataset.idleSeconds, 10);
  window.setTimeout(function () {
    warning.hidden = false;
  }, Math.max(seconds - 120, 0) * 1000);
});
