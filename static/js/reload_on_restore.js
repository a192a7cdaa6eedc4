// A page restored from the back/forward cache shows doses as they were: fetch it again.
window.addEventListener("pageshow", function (event) { if (event.persisted) { window.location.reload(); } });
