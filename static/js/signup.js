// Sign-up: the doctor-only fields (specialty, licence number) show only while "Doctor" is
// chosen. Without this script they simply stay visible, so a doctor can always sign up.
(function () {
  "use strict";
  var radios = document.querySelectorAll('input[name="role"]');
  var doctorOnly = document.querySelectorAll(".doctor-only");
  if (!radios.length || !doctorOnly.length) return;

  function update() {
    var chosen = document.querySelector('input[name="role"]:checked');
    var isDoctor = Boolean(chosen && chosen.value === "Doctor");
    Array.prototype.forEach.call(doctorOnly, function (block) {
      block.hidden = !isDoctor;
    });
  }

  Array.prototype.forEach.call(radios, function (radio) {
    radio.addEventListener("change", update);
  });
  update();
})();
