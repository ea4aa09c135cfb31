// The upload form proposes the language, title and date read from the chosen file
// (POST /admin/propose; the file is read and not kept). Only empty fields are filled:
// what the administrator typed is never replaced.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) { return; }
  var input = form.querySelector("#file");
  input.addEventListener("change", function () {
    if (!input.files || !input.files.length) { return; }
    var data = new FormData();
    data.append("file", input.files[0]);
    data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    fetch(form.getAttribute("data-propose-url"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (proposal) {
        if (!proposal) { return; }
        var title = form.querySelector("#title"), date = form.querySelector("#date"), lang = form.querySelector("#lang");
        if (proposal.title && !title.value) { title.value = proposal.title; }
        if (proposal.date && !date.value) { date.value = proposal.date; }
        if (proposal.lang && lang && !lang.dataset.touched) { lang.value = proposal.lang; }
      })
      .catch(function () { /* a proposal is a convenience: the form works without it */ });
  });
  var langSelect = form.querySelector("#lang");
  if (langSelect) {
    langSelect.addEventListener("change", function () { langSelect.dataset.touched = "1"; });
  }
})();
