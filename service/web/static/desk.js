/* reviewmon reply desk: the policy guard's verdict and the platform preview as you type, and "copy reply".
   Loaded with <script src> (the Content-Security-Policy allows no inline script).
   Everything from the server is put on the page with textContent, never as HTML. */
(function () {
  "use strict";

  var DEBOUNCE_MS = 300;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* --- the guard's verdict as you type ------------------------------------------ */

  function setupChecker() {
    var textarea = document.getElementById("reply-text");
    if (!textarea || textarea.tagName !== "TEXTAREA" || !textarea.dataset.checkUrl) {
      return;
    }
    var verdict = document.getElementById("verdict");
    var summary = document.getElementById("verdict-summary");
    var list = document.getElementById("verdict-problems");
    var approve = document.getElementById("approve-button");
    var hint = document.getElementById("approve-hint");
    var counter = document.getElementById("reply-count");
    var marked = document.getElementById("verdict-marked");
    var saved = "saved" in textarea.dataset ? textarea.dataset.saved : textarea.defaultValue;
    var timer = null;
    var sequence = 0;
    var lastOk = approve ? !approve.disabled : false;

    function count() {
      if (counter) {
        var n = Array.from(textarea.value).length;
        counter.textContent = "(" + n + " character" + (n === 1 ? "" : "s") + ")";
      }
    }

    /* The preview under the editor, the length against the platform's limit, and the
       editor's height: it grows with its text, so the whole reply is seen before Approve
       (CSS field-sizing does this where the browser knows it). */
    var preview = document.getElementById("reply-preview");
    var length = document.getElementById("reply-length");
    var grows = typeof CSS !== "undefined" && CSS.supports && CSS.supports("field-sizing", "content");

    function measure(text, unit) {
      return unit === "bytes" ? new TextEncoder().encode(text).length : Array.from(text).length;
    }

    function showPreview() {
      if (preview) {
        preview.textContent = textarea.value;
      }
      if (length && length.dataset.limit) {
        var limit = Number(length.dataset.limit), unit = length.dataset.unit || "characters";
        var used = measure(textarea.value, unit);
        length.textContent = used.toLocaleString("en") + " of the " + limit.toLocaleString("en") + " " + unit + " " +
          length.dataset.platform + " allows" +
          (used > limit ? ": too long, shorten it by " + (used - limit) : "");
        length.classList.toggle("is-over", used > limit);
      }
      if (!grows) {
        textarea.style.height = "auto";
        textarea.style.height = (textarea.scrollHeight + textarea.offsetHeight - textarea.clientHeight) + "px";
      }
    }

    function unsaved() {
      return textarea.value !== saved;
    }

    /* The approve button follows the guard's verdict on the text as typed. Approval is
       for the saved text (the form sends the text this page showed, and the server
       refuses a text changed since), so with unsaved changes it asks to save first. */
    function updateApprove() {
      if (hint) {
        hint.hidden = !unsaved();
      }
      if (approve) {
        approve.disabled = !lastOk;
        approve.title = lastOk ? "" : "The text fails the policy guard";
      }
    }

    if (approve && approve.form) {
      approve.form.addEventListener("submit", function (event) {
        if (unsaved()) {
          event.preventDefault();
          if (hint) {
            hint.hidden = false;
            hint.classList.add("is-urgent");
          }
          var save = document.querySelector("#edit-form button[type=submit]");
          if (save) {
            save.focus();
          }
        }
      });
    }

    /* Python counts characters as code points, JavaScript strings as UTF-16 units. */
    function unitOffset(text, points) {
      return Array.from(text).slice(0, points).join("").length;
    }

    /* The text as typed, with each refused clause marked; a click selects it in the editor. */
    function showClauses(text, clauses) {
      if (!marked) {
        return;
      }
      while (marked.firstChild) {
        marked.removeChild(marked.firstChild);
      }
      marked.hidden = !clauses.length;
      var points = Array.from(text);
      var position = 0;
      clauses.slice().sort(function (a, b) { return a.start - b.start; }).forEach(function (clause) {
        var start = Math.max(position, Number(clause.start) || 0);
        var end = Math.min(points.length, Math.max(start, Number(clause.end) || 0));
        marked.appendChild(document.createTextNode(points.slice(position, start).join("")));
        var mark = document.createElement("mark");
        mark.textContent = points.slice(start, end).join("");
        mark.title = (clause.problems || []).map(String).join("\n");
        mark.tabIndex = 0;
        mark.addEventListener("click", function () {
          textarea.focus();
          textarea.setSelectionRange(unitOffset(textarea.value, start), unitOffset(textarea.value, end));
        });
        marked.appendChild(mark);
        position = end;
      });
      marked.appendChild(document.createTextNode(points.slice(position).join("")));
    }

    function show(ok, problems, note) {
      lastOk = ok;
      verdict.classList.toggle("is-ok", ok);
      verdict.classList.toggle("is-bad", !ok);
      summary.textContent = note || (ok ? "Passes: it acknowledges the reviewer and invites contact, nothing more."
                                        : "Would be refused:");
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      problems.forEach(function (problem) {
        var item = document.createElement("li");
        item.textContent = String(problem);
        list.appendChild(item);
      });
      updateApprove();
    }

    function check() {
      var mine = ++sequence;
      var sent = textarea.value;
      verdict.classList.add("is-checking");
      fetch(textarea.dataset.checkUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRF-Token": csrfToken()
        },
        body: JSON.stringify({ text: sent })
      }).then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      }).then(function (data) {
        if (mine === sequence) {
          show(Boolean(data.ok), Array.isArray(data.problems) ? data.problems : []);
          showClauses(sent, Array.isArray(data.clauses) ? data.clauses : []);
        }
      }).catch(function () {
        if (mine === sequence) {
          show(false, [], "Could not check the text just now (are you still logged in?). Saving checks it too.");
        }
      }).then(function () {
        if (mine === sequence) {
          verdict.classList.remove("is-checking");
        }
      });
    }

    textarea.addEventListener("input", function () {
      count();
      showPreview();
      updateApprove();
      window.clearTimeout(timer);
      timer = window.setTimeout(check, DEBOUNCE_MS);
    });
    count();
    showPreview();
    updateApprove();
    if (!lastOk && marked) {
      check();  // mark the refused clauses of the text as loaded
    }
  }

  /* --- copy the reply ---------------------------------------------------------- */

  function selectText(element) {
    if (typeof element.select === "function") {
      element.focus();
      element.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function setupCopy() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var selector = button.getAttribute("data-copy");
      var source = document.querySelector(selector);
      var status = document.querySelector('[data-copy-status="' + selector + '"]');
      if (!source) {
        return;
      }
      function say(message) {
        if (status) {
          status.textContent = message;
        }
      }
      button.addEventListener("click", function () {
        var text = "value" in source ? source.value : source.textContent;
        function fallback() {
          selectText(source);
          say("Selected: press Ctrl+C (⌘C on a Mac) to copy.");
        }
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(function () {
            say("Copied.");
          }, fallback);
        } else {
          fallback();
        }
      });
    });
  }

  function start() {
    setupChecker();
    setupCopy();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
