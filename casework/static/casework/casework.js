// Behaviour for the project's pages, from a file: the Content-Security-Policy runs no inline
// event handlers. Delegated from the document, so it holds across Turbo's page changes.
document.addEventListener("change", function (event) {
  if (event.target.id === "cw-language") {
    event.target.form.submit();
  }
});
