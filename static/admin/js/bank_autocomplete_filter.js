'use strict';
// The audit log's autocomplete filters: choosing a customer or an application (or clearing it)
// reloads the list filtered by it, keeping the other filters. Select2 draws its own combobox once
// jQuery is ready: as soon as it exists, it is named by the filter's label, so that assistive
// technology says what it filters.
(function () {
    function nameComboboxes() {
        const selects = document.querySelectorAll('select[data-filter-param]');
        let pending = 0;
        selects.forEach(function (select) {
            const drawn = select.nextElementSibling;
            const combobox = drawn && drawn.querySelector('[role=combobox]');
            if (!combobox) {
                pending += 1;
                return;
            }
            const label = document.getElementById(select.id + '-label');
            combobox.setAttribute('aria-labelledby', label.id + ' ' + combobox.getAttribute('aria-labelledby'));
            const text = drawn.querySelector('[role=textbox]');
            if (text) {
                text.setAttribute('aria-label', label.textContent);
            }
        });
        return pending;
    }

    function whenDrawn(attempt) {
        if (nameComboboxes() && attempt < 100) {
            window.setTimeout(function () { whenDrawn(attempt + 1); }, 20);
        }
    }

    window.addEventListener('load', function () {
        whenDrawn(0);
        django.jQuery('select[data-filter-param]').on('change', function () {
            const params = new URLSearchParams(window.location.search);
            const name = this.dataset.filterParam;
            if (this.value) {
                params.set(name, this.value);
            } else {
                params.delete(name);
            }
            params.delete('p');
            window.location.search = params.toString();
        });
    });
})();
