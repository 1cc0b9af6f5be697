/* django-import-export's export page (templates/admin/import_export/export.html): the "Select all" checkbox
   (un)checks every field, through the package's own onSelectToggleChange (export_selectable_fields.js). */
(function () {
  "use strict";
  document.querySelectorAll("input.select-toggle").forEach(function (toggle) {
    toggle.addEventListener("change", function (event) { onSelectToggleChange(event); });
  });
}());
