/* django-celery-beat's periodic task form (templates/admin/djcelery/change_periodictask_form.html): hides the
   read-only crontab translation row and shows the chosen crontab in words under the crontab field. */
(function () {
  "use strict";
  var $ = django.jQuery;
  var script = document.getElementById("periodic-task-overrides");
  var readableCrontabs = JSON.parse(document.getElementById("readable-crontabs").textContent);
  var originalCrontabHelp = script.dataset.crontabHelp || "";

  function updateCrontabHelp(additional) {
    $(".field-crontab .help").empty().append(
      document.createTextNode(originalCrontabHelp), "<br>", document.createTextNode("Translation: " + additional));
  }

  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    updateCrontabHelp(readableCrontabs[$("#id_crontab").val()]);
  });
}());
