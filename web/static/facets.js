// Filter-as-you-type on a facet's page of values. Without this file the filter box is a plain
// GET form (press Enter or "Filter"); with it, the list is fetched as you type and the URL follows.
(function () {
  "use strict";
  var form = document.querySelector("form[data-enhance='facet-filter']");
  var list = document.getElementById("facet-values-list");
  var box = document.getElementById("contains");
  if (!form || !list || !box || !window.fetch || !window.DOMParser) { return; }
  var timer = null;
  var latest = 0;

  function urlOf() {
    var params = new URLSearchParams(new FormData(form));
    if (!box.value.trim()) { params.delete("contains"); }
    return form.action + "?" + params.toString();
  }

  function refresh() {
    var url = urlOf();
    var ticket = ++latest;
    window.fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || ticket !== latest) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var freshList = fresh.getElementById("facet-values-list");
        var heading = fresh.querySelector("main h1");
        if (!freshList) { return; }
        list.innerHTML = freshList.innerHTML;
        var oldHeading = document.querySelector("main h1");
        if (heading && oldHeading) { oldHeading.innerHTML = heading.innerHTML; }
        window.history.replaceState(null, "", url);
      })
      .catch(function () { /* the plain form still works */ });
  }

  box.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 200);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    refresh();
  });
})();
