// Casework's pages work without JavaScript; this only starts the GOV.UK and MOJ components that
// improve them. It is a module, so browsers too old for the components never run it.
import { initAll as initGovUk } from "./govuk-frontend.min.js";
import { initAll as initMoj } from "./moj-frontend.min.js";

// The components' styles for enhanced pages apply under these classes. They are set here rather
// than by an inline script so that a Content-Security-Policy need not allow inline scripts.
document.body.classList.add("js-enabled", "govuk-frontend-supported");
initGovUk();
initMoj();

// "Print this page" buttons need JavaScript, so they are hidden until it runs.
for (const button of document.querySelectorAll("[data-casework-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
