/* Copy buttons, an optional extra: <button type="button" hidden data-copy="FIELD_ID" data-copy-status="STATUS_ID"
   data-copied="…" data-copy-failed="…">. The buttons stay hidden unless the browser offers the Clipboard API;
   without JavaScript the read-only fields can still be selected and copied by hand. The texts come translated
   from the page's data- attributes (no inline script: the CSP allows only same-origin files). */
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) {
    return;
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copyStatus || "");
    if (!field) {
      return;
    }
    function say(text) {
      if (status) {
        status.textContent = text || "";
      }
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = ("value" in field ? field.value : field.textContent).trim();
      navigator.clipboard.writeText(text).then(function () {
        say(button.dataset.copied);
      }, function () {
        if (typeof field.select === "function") {
          field.focus();
          field.select();
        }
        say(button.dataset.copyFailed);
      });
    });
  });
})();
