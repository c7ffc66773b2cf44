// On a phone a page's filters fold away (a tap on "Filters" opens them) unless one is set,
// so that the first screen shows reviews. On a wider screen they are always open.
(function () {
  "use strict";
  var narrow = window.matchMedia("(max-width: 640px)");
  function fit() {
    document.querySelectorAll("details.filter-box").forEach(function (box) {
      if (!narrow.matches) {
        box.open = true;
      } else if (!box.hasAttribute("data-active") && !box.dataset.touched) {
        box.open = false;
      }
    });
  }
  document.querySelectorAll("details.filter-box > summary").forEach(function (summary) {
    summary.addEventListener("click", function () { summary.parentElement.dataset.touched = "1"; });
  });
  narrow.addEventListener("change", fit);
  fit();
}());
