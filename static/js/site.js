// The site's one script besides htmx, and progressive enhancement only:
// 1. Shrink chosen photos in the browser before they are sent, and show upload progress.
//    Without it the original files are sent and the server shrinks them. A 12-megapixel
//    phone photo (4-8 MB) becomes ~0.5 MB: minutes saved on 3G.
// 2. Keep what she typed when she switches the language in the middle of a form: the page
//    reloads in the other language with her words put back. Without it the switch says,
//    beside the button, that a form on the page is cleared.
(function () {
  "use strict";
  var MAX_SIDE = 2048;
  var QUALITY = 0.88;

  function shrink(file) {
    if (!/^image\//.test(file.type) || !window.createImageBitmap) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size < 1500000) {
        bitmap.close();
        return file;
      }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob) { resolve(file); return; }
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: Date.now() }));
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () {
      return file; // a format this browser cannot draw (HEIC on some phones): send as is
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("form[data-shrink-photos] input[type=file]")) return;
    if (!window.DataTransfer || !input.files.length) return;
    var form = input.form;
    var buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach(function (b) { b.disabled = true; });
    Promise.all(Array.prototype.map.call(input.files, shrink)).then(function (files) {
      var transfer = new DataTransfer();
      files.forEach(function (f) { transfer.items.add(f); });
      input.files = transfer.files;
    }).finally(function () {
      buttons.forEach(function (b) { b.disabled = false; });
    });
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("form[data-shrink-photos]");
    if (!form || !event.detail.lengthComputable) return;
    var bar = form.querySelector(".upload-progress");
    if (!bar) return;
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  });

  // --- 2. The language switch keeps the form she is filling in ---------------------------
  var KEPT = "kept-form";
  var SKIPPED = /^(password|file|hidden|submit|button|reset|image)$/;

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !SKIPPED.test(el.type) && el.name !== "csrf_token";
    });
  }

  document.addEventListener("submit", function (event) {
    if (!event.target.matches || !event.target.matches("form.lang")) return;
    var kept = [];
    document.querySelectorAll("main form[method=post]").forEach(function (form, index) {
      fields(form).forEach(function (el) {
        var changed = (el.type === "checkbox" || el.type === "radio")
          ? el.checked !== el.defaultChecked
          : el.tagName === "SELECT"
            ? Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; })
            : el.value !== el.defaultValue;
        if (changed) kept.push([index, el.name, el.type, el.value, el.checked]);
      });
    });
    try {
      if (kept.length) sessionStorage.setItem(KEPT, JSON.stringify({ path: location.pathname, fields: kept }));
    } catch (e) { /* private mode: nothing kept, as without this script */ }
  });

  function restore() {
    var saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(KEPT) || "null");
      sessionStorage.removeItem(KEPT); // once, and not left on a shared phone
    } catch (e) { return; }
    if (!saved || saved.path !== location.pathname) return;
    var forms = document.querySelectorAll("main form[method=post]");
    saved.fields.forEach(function (item) {
      var form = forms[item[0]];
      if (!form) return;
      fields(form).forEach(function (el) {
        if (el.name !== item[1]) return;
        if (el.type === "checkbox" || el.type === "radio") {
          if (el.value === item[3]) el.checked = item[4];
        } else {
          el.value = item[3];
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restore);
  } else {
    restore();
  }
})();
