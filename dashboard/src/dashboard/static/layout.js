// Loaded on every page (base.html): a table that scrolls inside itself (on a phone) can be reached and
// scrolled with the keyboard, so every table in <main> gets tabindex=0, also those a live feed redraws.
"use strict";
(function () {
  function focusable() {
    for (const t of document.querySelectorAll("main table:not(.cards)")) {
      if (!t.hasAttribute("tabindex")) t.tabIndex = 0;
    }
  }
  focusable();
  const main = document.querySelector("main");
  if (main) new MutationObserver(focusable).observe(main, {childList: true, subtree: true});
})();
