"""Sphinx extension: emit each identical script tag once per page.

A workaround for the stock Jupyter Book 1 stack: the inline configuration
scripts of sphinx-thebe and sphinx-togglebutton reach every page twice, and the
browser logged "Identifier 'THEBE_JS_URL' has already been declared"
(tests/test_browser.py fails on console errors). Uses the public
html-page-context event and its documented `script_files` template variable.
"""


def unique_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, keep = set(), []
    for js in scripts:
        attributes = getattr(js, "attributes", {})
        key = (str(getattr(js, "filename", js) or ""),
               tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            keep.append(js)
    scripts[:] = keep


def setup(app):
    app.connect("html-page-context", unique_scripts)
    return {"version": "1.0", "parallel_read_safe": True,
            "parallel_write_safe": True}
