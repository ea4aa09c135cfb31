/* Suggestions as you type, for every search box: the ARIA 1.2 combobox pattern with a listbox popup.
   Keyboard: Down/Up move through the suggestions, Enter takes one and searches, Escape closes
   the list (a second Escape clears the box). Without JavaScript the box is a plain search field.
   No inline code anywhere: the Content-Security-Policy allows scripts from this site only. */
(function () {
  "use strict";

  var DELAY_MS = 150;      // wait for a pause in typing before asking the server
  var MIN_CHARS = 1;       // one Chinese character is already a useful prefix

  function setup(form, index) {
    var input = form.querySelector("input[name=q]");
    var url = form.getAttribute("data-suggest-url");
    if (!input || !url || !window.fetch) { return; }

    var listId = input.id + "-listbox";
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", input.getAttribute("data-listbox-label") || "Suggestions");
    list.hidden = true;
    input.parentNode.appendChild(list);

    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    input.parentNode.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");

    var items = [];
    var active = -1;
    var timer = null;
    var lastAsked = "";
    var controller = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(i) {
      var options = list.children;
      for (var k = 0; k < options.length; k++) {
        options[k].setAttribute("aria-selected", k === i ? "true" : "false");
      }
      active = i;
      if (i >= 0) {
        input.setAttribute("aria-activedescendant", options[i].id);
        if (options[i].scrollIntoView) { options[i].scrollIntoView({block: "nearest"}); }
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(i) {
      input.value = items[i];
      close();
      form.submit();
    }

    function show(suggestions) {
      items = suggestions;
      list.textContent = "";
      if (!items.length || document.activeElement !== input) {
        close();
        status.textContent = "";
        return;
      }
      items.forEach(function (text, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = text;   // text, never HTML: suggestions come from document text
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();  // keep the focus in the input
          choose(i);
        });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
      var template = input.getAttribute("data-count-template") || "{n}";
      status.textContent = template.replace("{n}", String(items.length));
    }

    function ask() {
      var value = input.value;
      if (value.trim().length < MIN_CHARS) { show([]); return; }
      if (value === lastAsked) { return; }
      lastAsked = value;
      if (controller && controller.abort) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      var sep = url.indexOf("?") === -1 ? "?" : "&";
      fetch(url + sep + "q=" + encodeURIComponent(value), {
        headers: {"Accept": "application/json"},
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.ok ? response.json() : {suggestions: []};
      }).then(function (data) {
        if (input.value === value) { show(data.suggestions || []); }
      }).catch(function () { /* aborted or offline: no suggestions */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && items.length > 0;
      switch (event.key) {
        case "ArrowDown":
        case "Down":
          if (!open) { lastAsked = ""; ask(); return; }
          event.preventDefault();
          highlight(active + 1 >= items.length ? 0 : active + 1);
          break;
        case "ArrowUp":
        case "Up":
          if (!open) { return; }
          event.preventDefault();
          highlight(active <= 0 ? items.length - 1 : active - 1);
          break;
        case "Enter":
          if (open && active >= 0) {
            event.preventDefault();
            choose(active);
          }
          break;
        case "Escape":
        case "Esc":
          if (open) {
            event.preventDefault();
            close();
          } else if (input.value) {
            event.preventDefault();
            input.value = "";
          }
          break;
        case "Tab":
          close();
          break;
      }
    });

    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  function init() {
    var forms = document.querySelectorAll("form.search-form[data-suggest-url]");
    for (var i = 0; i < forms.length; i++) { setup(forms[i], i); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
