/*
 * Return form enhancements. The page works without them: the server shows every figure,
 * error and implied rolling 12 months; this only keeps the rolling figure up to date while
 * a lead types, and moves keyboard focus to an error summary and the fields it links to.
 * Loaded from a file (no inline script) so that a strict Content-Security-Policy can apply.
 */
(function () {
  "use strict";

  var MISSING = "\u2013";
  var NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;
  var SUFFIXES = { percent: "%", kg: " kg", days: " days", years: " years" };

  function parseFigure(text) {
    // The same leniency as the server: "16,127", "£30,801" and "69.8%" are numbers.
    var cleaned = text.replace(/[\s,£%]/g, "");
    return NUMBER.test(cleaned) ? Number(cleaned) : null;
  }

  function formatFigure(number, unit, decimals) {
    var text = new Intl.NumberFormat("en-GB", {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    }).format(Math.abs(number));
    var sign = number < 0 ? "-" : "";
    if (unit === "gbp") {
      return sign + "£" + text;
    }
    return sign + text + (SUFFIXES[unit] || "");
  }

  function updateRollingTwelve(row, input, cell) {
    var before = Number(row.getAttribute("data-rolling-before"));
    var typed = parseFigure(input.value);
    if (typed === null || Number.isNaN(before)) {
      cell.textContent = MISSING;
      return;
    }
    var decimals = parseInt(row.getAttribute("data-decimals"), 10) || 0;
    cell.textContent = formatFigure(before + typed, row.getAttribute("data-unit"), decimals);
  }

  document.querySelectorAll("tr[data-rolling-before]").forEach(function (row) {
    var input = row.querySelector('input[name^="value-"]');
    var cell = row.querySelector("[data-rolling-twelve]");
    if (!input || !cell) {
      return;
    }
    input.addEventListener("input", function () {
      updateRollingTwelve(row, input, cell);
    });
    updateRollingTwelve(row, input, cell);
  });

  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest('a[href^="#"]');
      if (!link) {
        return;
      }
      var field = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (field) {
        event.preventDefault();
        field.focus();
        field.scrollIntoView({ block: "center" });
      }
    });
  }
})();
