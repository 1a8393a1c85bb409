/*
 * Behaviour every page of the site shares, wired by data-* attributes (the
 * Content-Security-Policy allows no inline script nor on*= handler attributes):
 *   <select data-autosubmit>   submits its form when the choice changes (language menu);
 *   <button data-print>        prints the page.
 */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) {
      field.form.submit();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
})();
