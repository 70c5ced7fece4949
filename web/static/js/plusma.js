/* Plūsma staff UI: small behaviour on top of server-rendered pages (everything works without it). */
(function () {
  "use strict";
  // After a submission with errors, start keyboard and screen-reader users at the summary of them.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
    }
  });
})();
