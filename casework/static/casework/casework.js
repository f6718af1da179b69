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

// A page that comes back with errors: the summary at the top takes the focus (and is read
// out), and each of its links moves the focus to its field, not only the scroll position.
function cwFocusErrorSummary() {
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) {
    summary.focus();
  }
}
document.addEventListener("DOMContentLoaded", cwFocusErrorSummary);
document.addEventListener("turbo:load", cwFocusErrorSummary);
document.addEventListener("click", function (event) {
  var link = event.target.closest(".cw-error-summary a[href^='#']");
  if (!link) {
    return;
  }
  var field = document.getElementById(link.getAttribute("href").slice(1));
  if (field) {
    event.preventDefault();
    field.scrollIntoView({ block: "center" });
    field.focus();
  }
});

// Choosing "immediate danger": its guidance (shown by CSS under the choice) is brought fully
// into view, so the teacher reads "call 112" where she clicked, on a phone too.
document.addEventListener("change", function (event) {
  if (event.target.name !== "urgency" || event.target.value !== "immediate_danger") {
    return;
  }
  var guidance = document.getElementById("emergency");
  if (guidance) {
    guidance.scrollIntoView({ block: "nearest" });
  }
});

// On a phone the tables are shown as cards (casework.css): each cell names its column. A
// template may set data-label itself; any cell without one takes its column's header.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table.cw-table").forEach(function (table) {
    var headers = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (!cell.hasAttribute("data-label") && !cell.hasAttribute("colspan") && headers[index]) {
          cell.setAttribute("data-label", headers[index]);
        }
      });
    });
  });
});
