'use strict';
// The audit log's autocomplete filters: choosing a customer or an application (or clearing it)
// reloads the list filtered by it, keeping the other filters.
window.addEventListener('load', function () {
    const $ = django.jQuery;
    $('select[data-filter-param]').on('change', function () {
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
