// Progressive enhancement only: every feature works without this file.
(function () {
  "use strict";
  var box = document.getElementById("q");
  // "/" jumps to the search box, as on most search sites.
  document.addEventListener("keydown", function (event) {
    var tag = (event.target && event.target.tagName) || "";
    if (event.key === "/" && box && !/^(INPUT|TEXTAREA|SELECT)$/.test(tag) && !event.target.isContentEditable) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
  // Empty date fields would put "from=&to=" into the URL: leave them out of the request.
  var form = document.getElementById("search-form");
  if (form) {
    form.addEventListener("submit", function () {
      ["from", "to"].forEach(function (id) {
        var field = document.getElementById(id);
        if (field && !field.value.trim()) { field.disabled = true; }
      });
      window.setTimeout(function () {
        ["from", "to"].forEach(function (id) {
          var field = document.getElementById(id);
          if (field) { field.disabled = false; }
        });
      }, 0);
    });
  }
})();
