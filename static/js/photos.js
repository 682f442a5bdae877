// Shrink chosen photos in the browser before they are sent, and show upload progress.
// Progressive enhancement: without this script the original files are sent and the server
// shrinks them. A 12-megapixel phone photo (4-8 MB) becomes ~0.5 MB: minutes saved on 3G.
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
})();
