/* Plūsma staff UI: small behaviour on top of server-rendered pages (everything works without it). */
(function () {
  "use strict";

  // After a submission with errors, start keyboard and screen-reader users at the summary of them.
  function focusErrorSummary() {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
    }
  }

  // Conditional fields (form-js conditional.hide): the server decides which fields are hidden over
  // what is typed so far, and this only toggles their `hidden` attribute, so nothing typed is
  // replaced and focus stays where it is. Without JavaScript the server decides on submit.
  function followConditions(form) {
    var url = form.getAttribute("data-conditions-url");
    var pending = null;
    var latest = 0;

    function refresh() {
      var ticket = ++latest;
      fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(url + " answered " + response.status);
          }
          return response.json();
        })
        .then(function (answer) {
          if (ticket !== latest) {
            return; // a newer answer is on its way
          }
          var hidden = {};
          answer.hidden.forEach(function (id) {
            hidden[id] = true;
          });
          form.querySelectorAll("[data-field-id]").forEach(function (wrapper) {
            wrapper.hidden = Boolean(hidden[wrapper.getAttribute("data-field-id")]);
          });
        })
        .catch(function (error) {
          // The server still checks every condition when the form is submitted.
          console.warn("Plūsma: could not update the form's conditional fields:", error);
        });
    }

    form.addEventListener("change", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(refresh, 150);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary();
    document.querySelectorAll("form[data-conditions-url]").forEach(followConditions);
  });
})();
