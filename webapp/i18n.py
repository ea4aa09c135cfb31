"""The interface in English and Chinese: a small message catalogue.

Why not Flask-Babel: the interface has about a hundred short labels in two
languages, Chinese has no plural forms and English needs only a handful of
singular/plural pairs. Babel would add a compile step (.po -> .mo) to the
build, a dependency with megabytes of locale data, and a second place where
labels live. A dictionary keeps every label next to its translation, a test
checks that each key has both languages, and switching to Flask-Babel later
means running `pybabel extract` over the `t()` calls.

The language is chosen per request: the `ui_lang` cookie set by the switch
control, else the browser's Accept-Language, else English.
"""

from __future__ import annotations

from flask import g, request

LANGUAGES = ("en", "zh")
DEFAULT = "en"
COOKIE = "ui_lang"
# The html lang attribute of each interface language.
HTML_LANG = {"en": "en", "zh": "zh-Hans"}

MESSAGES: dict[str, dict[str, str]] = {
    # punctuation: Chinese uses the full-width colon, with no space after it
    "colon": {"en": ": ", "zh": "："},
    # site and navigation
    "site_name": {"en": "EU–China Regional Policy Dialogue Archive", "zh": "中欧区域政策对话档案库"},
    "site_short": {"en": "EU–China Regional Policy Archive", "zh": "中欧区域政策档案库"},
    "skip_to_content": {"en": "Skip to content", "zh": "跳到正文"},
    "nav_label": {"en": "Main", "zh": "主导航"},
    "nav_search": {"en": "Search", "zh": "检索"},
    "nav_browse": {"en": "Browse", "zh": "浏览"},
    "nav_status": {"en": "Index status", "zh": "索引状态"},
    "nav_help": {"en": "Search help", "zh": "检索帮助"},
    "nav_feed": {"en": "New documents (Atom feed)", "zh": "新增文件（Atom 订阅）"},
    "switch_language": {"en": "中文", "zh": "English"},
    "switch_language_label": {"en": "界面语言：中文", "zh": "Interface language: English"},
    "footer_note": {"en": "Documents of the EU–China High Level Regional Policy Dialogue, searchable in English and Chinese.",
                    "zh": "中欧高层区域政策对话文件，可用中文和英文检索。"},
    "opensearch_description": {"en": "Search the EU–China regional policy dialogue documents",
                               "zh": "检索中欧区域政策对话文件"},
    # search box
    "search_label": {"en": "Search the documents", "zh": "检索文件"},
    "search_placeholder": {"en": "e.g. cohesion policy, 区域政策, \"urban development\"",
                           "zh": "例如：区域政策、cohesion policy、\"城镇化\""},
    "search_button": {"en": "Search", "zh": "检索"},
    "search_help_link": {"en": "How to search", "zh": "检索语法"},
    "suggestions": {"en": "Suggestions", "zh": "建议"},
    "suggestions_count": {"en": "{n} suggestions, use the up and down arrow keys",
                          "zh": "{n} 条建议，可用上下方向键选择"},
    # home
    "home_intro": {"en": "Full-text search across the memoranda, joint statements, studies and seminar reports of the "
                         "EU–China regional policy dialogue, in English and Chinese. Every result shows the pages "
                         "where your words are.",
                   "zh": "全文检索中欧区域政策对话的谅解备忘录、联合声明、研究报告和研讨会文件，支持中文和英文。"
                         "每条结果都会显示检索词所在的页码。"},
    "home_count": {"en": "{documents} documents, {pages} pages indexed, last updated {last_update}.",
                   "zh": "已索引 {documents} 份文件、{pages} 页，最近更新：{last_update}。"},
    "home_try": {"en": "Try:", "zh": "试试："},
    "home_latest": {"en": "Most recent documents", "zh": "最新文件"},
    "browse_all": {"en": "Browse all documents", "zh": "浏览全部文件"},
    # results
    "results_title": {"en": "Search results for “{q}”", "zh": "“{q}”的检索结果"},
    "results_count_one": {"en": "1 document", "zh": "1 份文件"},
    "results_count": {"en": "{n} documents", "zh": "{n} 份文件"},
    "results_page_of": {"en": "page {page} of {pages}", "zh": "第 {page} 页，共 {pages} 页"},
    "no_results": {"en": "No document matches “{q}”.", "zh": "没有与“{q}”匹配的文件。"},
    "no_results_hint": {"en": "Check the spelling, use fewer words, remove filters, or try the other language.",
                        "zh": "请检查拼写、减少检索词、取消筛选条件，或改用另一种语言检索。"},
    "no_results_filters": {"en": "Remove all filters", "zh": "取消全部筛选"},
    "page_out_of_range": {"en": "There are no results on this page.", "zh": "此页没有结果。"},
    "first_page": {"en": "Go to the first page", "zh": "回到第一页"},
    "did_you_mean": {"en": "Did you mean", "zh": "您是不是要找"},
    "also_searched": {"en": "Also searched:", "zh": "同时检索了："},
    "also_searched_off": {"en": "search only for what I typed", "zh": "只检索我输入的词"},
    "translation_glossary": {"en": "glossary", "zh": "术语表"},
    "translation_dictionary": {"en": "dictionary", "zh": "词典"},
    "expansion_off": {"en": "Glossary translation is off for this search.", "zh": "本次检索未使用术语表翻译。"},
    "expansion_on": {"en": "Also search the other language", "zh": "同时检索另一种语言"},
    "any_word_fallback": {"en": "No document has all of your words; showing documents with any of them.",
                          "zh": "没有文件同时包含全部检索词，以下为包含其中任一词的文件。"},
    "matched_pages": {"en": "Matching pages", "zh": "匹配页"},
    "page_n": {"en": "p. {n}", "zh": "第 {n} 页"},
    "pdf_page": {"en": "PDF p. {n}", "zh": "PDF 第 {n} 页"},
    "other_pages_one": {"en": "1 more matching page", "zh": "另有 1 页匹配"},
    "other_pages": {"en": "{n} more matching pages", "zh": "另有 {n} 页匹配"},
    "title_matched": {"en": "Title or description matches", "zh": "标题或简介匹配"},
    "export": {"en": "Export results", "zh": "导出结果"},
    "export_csv": {"en": "CSV", "zh": "CSV"},
    "export_json": {"en": "JSON", "zh": "JSON"},
    "results_label": {"en": "Results", "zh": "检索结果"},
    # sorting, filters, facets
    "sort_label": {"en": "Sort by", "zh": "排序"},
    "sort_relevance": {"en": "Relevance", "zh": "相关度"},
    "sort_newest": {"en": "Newest", "zh": "最新"},
    "sort_oldest": {"en": "Oldest", "zh": "最早"},
    "filters": {"en": "Narrow the results", "zh": "筛选结果"},
    "active_filters": {"en": "Active filters", "zh": "已选筛选条件"},
    "remove_filter": {"en": "Remove filter {name}: {value}", "zh": "取消筛选 {name}：{value}"},
    "clear_filters": {"en": "Clear all filters", "zh": "清除全部筛选"},
    "facet_kind": {"en": "Kind", "zh": "类型"},
    "facet_year": {"en": "Year", "zh": "年份"},
    "facet_lang": {"en": "Language", "zh": "语言"},
    "facet_programme": {"en": "Programme", "zh": "项目"},
    "facet_place": {"en": "Place", "zh": "地点"},
    "year_undated": {"en": "Undated", "zh": "日期不详"},
    "show_filters": {"en": "Filters", "zh": "筛选"},
    "listing_title": {"en": "Documents", "zh": "文件"},
    "feed_query": {"en": "Follow this search (Atom feed)", "zh": "订阅此检索（Atom）"},
    "feed_query_title": {"en": "“{q}” in the EU–China Regional Policy Dialogue Archive",
                         "zh": "中欧区域政策对话档案库：“{q}”"},
    "feed_filters_title": {"en": "Documents of the EU–China Regional Policy Dialogue Archive ({filters})",
                           "zh": "中欧区域政策对话档案库文件（{filters}）"},
    "cite": {"en": "Cite", "zh": "引用"},
    "cite_document": {"en": "Cite this document", "zh": "引用本文件"},
    "cite_results": {"en": "Cite these results", "zh": "引用这些结果"},
    "cite_ris": {"en": "RIS (EndNote, Zotero, Mendeley)", "zh": "RIS（EndNote、Zotero、Mendeley）"},
    "cite_bibtex": {"en": "BibTeX", "zh": "BibTeX"},
    "cite_csl": {"en": "CSL-JSON", "zh": "CSL-JSON"},
    "facet_date_from": {"en": "From", "zh": "起始日期"},
    "facet_date_to": {"en": "To", "zh": "截止日期"},
    "facet_none": {"en": "none in these results", "zh": "本次结果中没有"},
    "date_range": {"en": "Date range", "zh": "日期范围"},
    "date_hint": {"en": "YYYY, YYYY-MM or YYYY-MM-DD", "zh": "格式：YYYY、YYYY-MM 或 YYYY-MM-DD"},
    "selected": {"en": "selected", "zh": "已选"},
    "apply": {"en": "Apply", "zh": "应用"},
    # pager
    "pagination": {"en": "Result pages", "zh": "结果分页"},
    "previous": {"en": "Previous", "zh": "上一页"},
    "next": {"en": "Next", "zh": "下一页"},
    "page_number": {"en": "Page {n}", "zh": "第 {n} 页"},
    # documents
    "metadata": {"en": "About this document", "zh": "文件信息"},
    "field_title": {"en": "Title", "zh": "标题"},
    "field_title_zh": {"en": "Chinese title", "zh": "中文标题"},
    "field_date": {"en": "Date", "zh": "日期"},
    "field_kind": {"en": "Kind", "zh": "类型"},
    "field_programme": {"en": "Programme", "zh": "项目"},
    "field_event": {"en": "Event", "zh": "活动"},
    "field_place": {"en": "Place", "zh": "地点"},
    "field_summary": {"en": "Summary", "zh": "简介"},
    "field_id": {"en": "Identifier", "zh": "编号"},
    "field_added": {"en": "Added to the archive", "zh": "收录时间"},
    "field_languages": {"en": "Languages", "zh": "语言"},
    "uncatalogued": {"en": "This file has no catalogue entry; its title and date come from the file itself.",
                     "zh": "此文件不在目录中，标题和日期取自文件本身。"},
    "versions": {"en": "Language versions", "zh": "语言版本"},
    "file": {"en": "File", "zh": "文件"},
    "status": {"en": "Status", "zh": "状态"},
    "pages": {"en": "Pages", "zh": "页数"},
    "open_pdf": {"en": "Open", "zh": "打开"},
    # Read by screen readers after "Open"/"Download": which file the link is for.
    "version_suffix": {"en": " the {language} version ({file})", "zh": "{language}版本（{file}）"},
    "download": {"en": "Download", "zh": "下载"},
    "show_text": {"en": "Show text", "zh": "显示正文"},
    "showing_text": {"en": "Text shown below", "zh": "正文见下方"},
    "file_missing": {"en": "The file is missing from the archive.", "zh": "档案库中缺少此文件。"},
    "no_files": {"en": "The catalogue lists no file for this document.", "zh": "目录中没有此文件的电子版本。"},
    "matched_in_document": {"en": "Pages matching “{q}”", "zh": "与“{q}”匹配的页"},
    "no_match_in_document": {"en": "No page of this document matches “{q}”.", "zh": "本文件没有与“{q}”匹配的页。"},
    "back_to_results": {"en": "Back to the results", "zh": "返回检索结果"},
    "document_text": {"en": "Text of the {language} version", "zh": "{language}版本正文"},
    "page_heading": {"en": "Page {n}", "zh": "第 {n} 页"},
    "page_empty": {"en": "(no text on this page)", "zh": "（此页无文字）"},
    "no_text": {"en": "No text was extracted from this file.", "zh": "未能从此文件中提取文字。"},
    "pdf_viewer": {"en": "PDF viewer", "zh": "PDF 阅读器"},
    "pdf_viewer_fallback": {"en": "Open the PDF at page {n}", "zh": "在第 {n} 页打开 PDF"},
    # the PDF viewer's controls (webapp/static/viewer.js fills in {n}, {k} and {total})
    "viewer_page_nav": {"en": "Pages", "zh": "翻页"},
    "viewer_prev_page": {"en": "Previous page", "zh": "上一页"},
    "viewer_next_page": {"en": "Next page", "zh": "下一页"},
    "viewer_page_input": {"en": "Page", "zh": "页码"},
    "viewer_page_count": {"en": "of {n}", "zh": "共 {n} 页"},
    "viewer_hit_nav": {"en": "Matches", "zh": "匹配处"},
    "viewer_prev_hit": {"en": "Previous match", "zh": "上一处"},
    "viewer_next_hit": {"en": "Next match", "zh": "下一处"},
    "viewer_hit_k_of_n": {"en": "Match {k} of {n}", "zh": "第 {k} 处，共 {n} 处"},
    "viewer_hits_n": {"en": "{n} matches", "zh": "共 {n} 处匹配"},
    "viewer_hits_none": {"en": "No match shown on these pages", "zh": "这些页上没有可显示的匹配"},
    "viewer_zoom": {"en": "Zoom", "zh": "缩放"},
    "viewer_zoom_out": {"en": "Zoom out", "zh": "缩小"},
    "viewer_zoom_in": {"en": "Zoom in", "zh": "放大"},
    "viewer_page_area": {"en": "PDF page {n}", "zh": "PDF 第 {n} 页"},
    "viewer_loading": {"en": "Loading the PDF…", "zh": "正在载入 PDF……"},
    "viewer_error": {"en": "The PDF could not be shown here; the page text is below.",
                     "zh": "无法在此显示 PDF，页面文字见下方。"},
    "related": {"en": "Related documents", "zh": "相关文件"},
    "failed_pages": {"en": "pages without text: {pages}", "zh": "无文字的页：{pages}"},
    "reading": {"en": "how the text was read", "zh": "文字读取方式"},
    "status_helped_title": {"en": "Pages read by another reader", "zh": "由其他读取器读取的页"},
    "status_helped_intro": {"en": "The first reader (pypdf) got these pages wrong or found no text on them; "
                                  "PDFium or OCR read them.",
                            "zh": "首选读取器（pypdf）读错或未读到这些页的文字，已改由 PDFium 或文字识别（OCR）读取。"},
    # statuses of files
    "status_indexed": {"en": "indexed", "zh": "已索引"},
    "status_partial": {"en": "partly indexed", "zh": "部分索引"},
    "status_failed": {"en": "failed", "zh": "读取失败"},
    "status_encrypted": {"en": "encrypted", "zh": "已加密"},
    "status_needs_ocr": {"en": "needs OCR (scanned)", "zh": "需文字识别（扫描件）"},
    "status_waiting": {"en": "waiting to be indexed", "zh": "等待索引"},
    "status_ocr": {"en": "indexed with OCR", "zh": "已通过文字识别索引"},
    # browse
    "browse_title": {"en": "All documents", "zh": "全部文件"},
    "browse_by_date": {"en": "By date", "zh": "按日期"},
    "browse_by_kind": {"en": "By kind", "zh": "按类型"},
    "browse_order": {"en": "Order", "zh": "排列方式"},
    "browse_count": {"en": "{n} documents in the archive.", "zh": "档案库共有 {n} 份文件。"},
    "undated": {"en": "Undated", "zh": "日期不详"},
    "feed_title": {"en": "New documents in the EU–China Regional Policy Dialogue Archive",
                   "zh": "中欧区域政策对话档案库新增文件"},
    # status page
    "status_title": {"en": "Index status", "zh": "索引状态"},
    "status_documents": {"en": "Documents", "zh": "文件数"},
    "status_pages": {"en": "Pages", "zh": "页数"},
    "status_last_update": {"en": "Last update", "zh": "最近更新"},
    "status_files": {"en": "Files by status", "zh": "按状态统计的文件"},
    "status_waiting_title": {"en": "Waiting to be indexed", "zh": "等待索引的文件"},
    "status_waiting_none": {"en": "Every file in the archive is indexed as it is on disk.",
                            "zh": "档案库中的所有文件均已按当前内容索引。"},
    "status_missing_title": {"en": "Indexed but gone from the archive", "zh": "已索引但已从档案库删除的文件"},
    "status_missing": {"en": "gone from the archive", "zh": "已从档案库删除"},
    "status_update_failed": {"en": "The last update failed: {error}", "zh": "最近一次更新失败：{error}"},
    "status_failing_since": {"en": "Updates have been failing for {age} ({n} in a row); the site answers from the last good index.",
                             "zh": "更新已连续失败 {n} 次，持续 {age}；网站仍使用最近一次正常的索引。"},
    "status_removals_held": {"en": "Nothing was removed from the index: {reason}.",
                             "zh": "索引中未删除任何文件：{reason}。"},
    "status_removals_held_help": {"en": "Every document stays searchable. If the files were deleted on purpose, confirm on the admin page or run `python -m indexer update --allow-removals`; if the archive folder is a share that did not mount, mount it and the warning ends by itself.",
                                  "zh": "所有文件仍可检索。如确系有意删除，请在管理页面确认，或运行 `python -m indexer update --allow-removals`；如档案库文件夹是未挂载的共享目录，挂载后此警告会自动消失。"},
    "status_waiting_missing": {"en": "No file is waiting; {n} indexed files are gone from the archive (listed below).",
                               "zh": "没有等待索引的文件；{n} 个已索引文件已从档案库删除（见下）。"},
    "status_failures_title": {"en": "Files that could not be read in full", "zh": "未能完整读取的文件"},
    "status_failures_none": {"en": "No file failed.", "zh": "没有读取失败的文件。"},
    "status_reason": {"en": "Reason", "zh": "原因"},
    "status_document": {"en": "Document", "zh": "文件"},
    "status_version_stale": {"en": "The index was built by another version of the software; it will be rebuilt at the next update.",
                             "zh": "索引由其他版本的软件建立，下次更新时将重建。"},
    "status_not_built": {"en": "No index has been built yet: run `python -m indexer update`.",
                         "zh": "尚未建立索引：请运行 `python -m indexer update`。"},
    # help
    "help_title": {"en": "How to search", "zh": "检索语法"},
    # admin
    "admin_title": {"en": "Upload documents", "zh": "上传文件"},
    "admin_off": {"en": "Uploads are off. An administrator turns them on by setting admin_password_hash in config.toml "
                        "(create one with: python -m webapp hash-password).",
                  "zh": "上传功能未开启。管理员可在 config.toml 中设置 admin_password_hash 来开启"
                        "（用 python -m webapp hash-password 生成）。"},
    "login_title": {"en": "Administrator login", "zh": "管理员登录"},
    "login_password": {"en": "Admin password", "zh": "管理员密码"},
    "login_button": {"en": "Log in", "zh": "登录"},
    "login_failed": {"en": "Wrong password. You can try again in {seconds} s.",
                     "zh": "密码错误，请 {seconds} 秒后重试。"},
    "login_wait": {"en": "Too many wrong passwords from your computer: try again in {seconds} s.",
                   "zh": "密码错误次数过多，请 {seconds} 秒后重试。"},
    "login_required": {"en": "Log in first: uploading needs the admin password.", "zh": "请先登录：上传文件需要管理员密码。"},
    "logout_button": {"en": "Log out", "zh": "退出登录"},
    "session_expired": {"en": "Your session has expired: log in again (nothing was saved).",
                        "zh": "登录已过期，请重新登录（未保存任何内容）。"},
    "csrf_failed": {"en": "The form was out of date or did not come from this site: open the page again and resend it "
                          "(nothing was saved).",
                    "zh": "表单已过期或并非来自本网站：请重新打开页面后再提交（未保存任何内容）。"},
    "upload_intro": {"en": "Add a PDF (at most {limit} MB) and its catalogue entry; it is searchable as soon as it is "
                           "indexed. Your session lasts {minutes} minutes.",
                     "zh": "上传 PDF 文件（最大 {limit} MB）并填写目录信息，索引完成后即可检索。登录有效期为 {minutes} 分钟。"},
    "upload_file": {"en": "PDF file", "zh": "PDF 文件"},
    "upload_lang": {"en": "Language of the file", "zh": "文件语言"},
    "upload_version_of": {"en": "Language version of an existing document", "zh": "现有文件的其他语言版本"},
    "upload_version_of_help": {"en": "Choose the document this file translates; its catalogue entry is kept and the "
                                     "fields below are not used.",
                               "zh": "选择此文件所翻译的文件；将沿用其目录信息，下方字段不再使用。"},
    "upload_new_document": {"en": "No: a new document", "zh": "否：新文件"},
    "upload_new_fields": {"en": "A new document", "zh": "新文件"},
    "upload_button": {"en": "Upload and index", "zh": "上传并索引"},
    "upload_back": {"en": "Back to the upload form", "zh": "返回上传表单"},
    "upload_another": {"en": "Upload another file", "zh": "继续上传"},
    "upload_no_file": {"en": "Choose a PDF file to upload.", "zh": "请选择要上传的 PDF 文件。"},
    "upload_saved_locked": {"en": "{file} is saved in the archive. An update of the index is running; it will index "
                                  "the file (or the watcher will, within seconds).",
                            "zh": "{file} 已保存到档案库。索引正在更新，更新程序（或文件监视程序）将在数秒内为其建立索引。"},
    "upload_saved_failed": {"en": "{file} is saved in the archive, but indexing it failed; the status page says why.",
                            "zh": "{file} 已保存到档案库，但索引失败，原因见索引状态页。"},
    "upload_saved_link": {"en": "The document {id}", "zh": "文件 {id}"},
    "upload_duplicate_link": {"en": "Open the document {id}", "zh": "打开文件 {id}"},
    "upload_too_large": {"en": "The file is larger than the upload limit of {limit_mb} MB.",
                         "zh": "文件超过了 {limit_mb} MB 的上传上限。"},
    "upload_empty_file": {"en": "The file is empty.", "zh": "文件为空。"},
    "upload_not_pdf": {"en": "This is not a PDF: only PDF files can be uploaded.", "zh": "这不是 PDF 文件：只能上传 PDF 文件。"},
    "upload_unreadable_pdf": {"en": "The file starts like a PDF but cannot be opened: it is damaged or not a PDF.",
                              "zh": "文件无法打开：已损坏或不是 PDF 文件。"},
    "upload_encrypted_pdf": {"en": "The PDF is protected by a password: upload a copy without one.",
                             "zh": "此 PDF 设有密码保护，请上传无密码的版本。"},
    "upload_duplicate": {"en": "This file is already in the archive as {file}.", "zh": "此文件已在档案库中：{file}。"},
    "upload_inflating_pdf": {"en": "The PDF's pages would inflate to more than {limit_mb} MB (or hold a huge image) "
                                   "when shown: it is refused.",
                             "zh": "此 PDF 显示时会解压出超过 {limit_mb} MB 的数据（或含有超大图像），因此被拒绝。"},
    "upload_catalogue_broken": {"en": "{detail}", "zh": "目录文件有错误，请先修正：{detail}"},
    "upload_catalogue_layout": {"en": "The catalogue's layout is unusual: add this entry by hand.",
                                "zh": "目录文件格式特殊，请手动添加此条目。"},
    "upload_unknown_document": {"en": "The document {doc_id} is not in the catalogue.", "zh": "目录中没有文件 {doc_id}。"},
    "upload_lang_taken": {"en": "The document {doc_id} already has a version in this language.",
                          "zh": "文件 {doc_id} 已有此语言的版本。"},
    "upload_bad_date": {"en": "The date '{value}' is not YYYY, YYYY-MM or YYYY-MM-DD.",
                        "zh": "日期“{value}”的格式应为 YYYY、YYYY-MM 或 YYYY-MM-DD。"},
    "upload_no_such_date": {"en": "The date '{value}' does not exist.", "zh": "日期“{value}”不存在。"},
    "upload_bad_field": {"en": "{detail}", "zh": "目录信息有误：{detail}"},
    "upload_bad_lang": {"en": "Choose the language of the file.", "zh": "请选择文件语言。"},
    "admin_update_later": {"en": "Saved. Another update of the index is running; the change is indexed right after it.",
                           "zh": "已保存。索引正在被另一次更新占用，更新结束后即会索引此更改。"},
    "admin_update_failed": {"en": "Saved, but updating the index failed: {detail}",
                            "zh": "已保存，但更新索引失败：{detail}"},
    "admin_removals_done": {"en": "Confirmed: the files gone from the archive have left the index.",
                            "zh": "已确认：已从档案库删除的文件已移出索引。"},
    "admin_removed": {"en": "{id} was moved to the trash; restore it below if that was a mistake.",
                      "zh": "{id} 已移至回收站；如有误，可在下方恢复。"},
    "admin_documents": {"en": "Documents", "zh": "文件"},
    "admin_edit": {"en": "Edit", "zh": "编辑"},
    "admin_remove": {"en": "Remove", "zh": "移除"},
    "admin_remove_help": {"en": "Remove moves the document's files to the archive's trash folder (.trash) and takes its entry out of the catalogue; nothing is deleted, and it can be restored.",
                          "zh": "“移除”会把文件移到档案库的回收站文件夹（.trash）并从目录中删去其条目；不会删除任何内容，可以恢复。"},
    "admin_trash": {"en": "Trash", "zh": "回收站"},
    "admin_trash_empty": {"en": "The trash is empty.", "zh": "回收站为空。"},
    "admin_restore": {"en": "Restore", "zh": "恢复"},
    "admin_removals_held_title": {"en": "Removals waiting for your confirmation", "zh": "等待确认的删除"},
    "admin_allow_removals_button": {"en": "The files were deleted on purpose: remove them from the index",
                                    "zh": "这些文件是有意删除的：将其移出索引"},
    "admin_edit_title": {"en": "Catalogue entry of {id}", "zh": "{id} 的目录条目"},
    "admin_edit_help": {"en": "The catalogue is rewritten at once; its previous version is kept in .catalogue-versions beside it.",
                        "zh": "目录文件会立即改写；之前的版本保存在其旁边的 .catalogue-versions 文件夹中。"},
    "admin_save": {"en": "Save", "zh": "保存"},
    "admin_not_catalogued": {"en": "not in the catalogue", "zh": "未列入目录"},
    "upload_unknown_removal": {"en": "There is no such removal in the trash.", "zh": "回收站中没有此项。"},
    "upload_restore_taken": {"en": "{file} is in the archive again: rename one of them first.",
                             "zh": "档案库中又有了 {file}：请先将其中之一改名。"},
    "upload_busy": {"en": "Another upload is being saved: try again in a minute.", "zh": "另一个文件正在保存，请稍后重试。"},
    # errors
    "error_title": {"en": "Something went wrong", "zh": "出错了"},
    "error_400": {"en": "The request could not be understood", "zh": "无法理解此请求"},
    "error_404": {"en": "Not found", "zh": "未找到"},
    "error_404_text": {"en": "There is no such page or document in the archive.", "zh": "档案库中没有此页面或文件。"},
    "error_405": {"en": "Method not allowed", "zh": "不允许此操作"},
    "error_413": {"en": "Too large", "zh": "内容过大"},
    "error_500": {"en": "Server error", "zh": "服务器错误"},
    "error_500_text": {"en": "The server could not answer this request. The error was logged with the request id below.",
                       "zh": "服务器无法处理此请求，错误已记录，请求编号见下方。"},
    "error_503": {"en": "Not available yet", "zh": "暂不可用"},
    "query_error": {"en": "The query could not be run", "zh": "无法执行此检索"},
    # SearchQueryError messages by their code (indexer.search and webapp.params), with the same figures
    "query_too_long": {"en": "The query is too long ({length} characters; at most {limit}).",
                       "zh": "检索式过长（{length} 个字符，最多 {limit} 个）。"},
    "query_too_many_terms": {"en": "The query has too many terms ({terms}; at most {limit}).",
                             "zh": "检索词过多（{terms} 个，最多 {limit} 个）。"},
    "query_too_deep": {"en": "The query nests too many parentheses (at most {limit}).",
                       "zh": "检索式中的括号嵌套过多（最多 {limit} 层）。"},
    "query_leading_wildcard": {"en": "A word cannot start with * or ?: type at least one letter before the wildcard.",
                               "zh": "检索词不能以 * 或 ? 开头：请在通配符前至少输入一个字母。"},
    "query_unparsable": {"en": "The query could not be understood: check its quotes and parentheses.",
                         "zh": "无法理解此检索式：请检查引号和括号。"},
    "query_no_words": {"en": "The query has no words to search for: add a word, a Chinese term or a phrase.",
                       "zh": "检索式中没有可检索的词：请输入一个词、一个中文词语或一个短语。"},
    "query_bad_sort": {"en": "Unknown sort order: use one of {allowed}.", "zh": "未知的排序方式：请使用 {allowed} 之一。"},
    "query_bad_page": {"en": "The result page must be a number from 1 to {limit}.",
                       "zh": "结果页码必须是 1 到 {limit} 之间的数字。"},
    "query_empty": {"en": "Type a word, a phrase in quotes, or a Chinese term to search for.",
                    "zh": "请输入要检索的词、带引号的短语或中文词语。"},
    "query_too_many_wildcards": {"en": "The query has too many words with * or ? ({count}; at most {limit}).",
                                 "zh": "检索式中带 * 或 ? 的词过多（{count} 个；最多 {limit} 个）。"},
    "query_short_prefix": {"en": "Type at least {limit} letters before a * or ?.",
                           "zh": "请在 * 或 ? 之前至少输入 {limit} 个字母。"},
    "query_too_many_expansions": {"en": "The words with * or ? stand for too many terms (more than {limit}): "
                                        "type more letters before the * or ?.",
                                  "zh": "带 * 或 ? 的词对应的词项过多（超过 {limit} 个）：请在 * 或 ? 之前多输入几个字母。"},
    "error_429": {"en": "Too many requests", "zh": "请求过多"},
    "busy_costly_query": {"en": "Your previous search with * or ? is still running: try again in a few seconds.",
                          "zh": "您上一个带 * 或 ? 的检索仍在运行，请几秒钟后再试。"},
    "query_timeout": {"en": "The query took longer than {seconds:g} s: make it more specific.",
                      "zh": "检索超过了 {seconds:g} 秒的时限：请缩小检索范围。"},
    "query_bad_filter": {"en": "Too many or too long values for the filter {name}.",
                         "zh": "筛选条件 {name} 的取值过多或过长。"},
    "query_bad_date": {"en": "The date in “{field}” is not of the form YYYY, YYYY-MM or YYYY-MM-DD.",
                       "zh": "“{field}”中的日期格式应为 YYYY、YYYY-MM 或 YYYY-MM-DD。"},
    "request_id": {"en": "Request id", "zh": "请求编号"},
    "go_home": {"en": "Go to the search page", "zh": "返回检索页"},
    # languages of documents
    "lang_en": {"en": "English", "zh": "英文"},
    "lang_zh": {"en": "Chinese", "zh": "中文"},
    # kinds of documents
    "kind_memorandum of understanding": {"en": "memorandum of understanding", "zh": "谅解备忘录"},
    "kind_addendum": {"en": "addendum", "zh": "补充文件"},
    "kind_joint statement": {"en": "joint statement", "zh": "联合声明"},
    "kind_joint declaration": {"en": "joint declaration", "zh": "联合宣言"},
    "kind_joint conclusions": {"en": "joint conclusions", "zh": "联合结论"},
    "kind_high-level seminar": {"en": "high-level seminar", "zh": "高层研讨会"},
    "kind_study": {"en": "study", "zh": "研究报告"},
    "kind_training report": {"en": "training report", "zh": "培训报告"},
    "kind_programme report": {"en": "programme report", "zh": "项目报告"},
    "kind_document": {"en": "document", "zh": "文件"},
    # programmes
    "programme_CETREGIO": {"en": "CETREGIO", "zh": "CETREGIO（中欧区域政策合作项目）"},
    "programme_World Cities": {"en": "World Cities", "zh": "World Cities（世界城市项目）"},
    "programme_International Urban Cooperation": {"en": "International Urban Cooperation",
                                                  "zh": "International Urban Cooperation（国际城市合作项目）"},
}


def choose_language() -> str:
    """The interface language of this request: cookie, then Accept-Language, then English."""
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT) or DEFAULT


def current_language() -> str:
    """The interface language, chosen once per request."""
    if "ui_lang" not in g:
        g.ui_lang = choose_language()
    return g.ui_lang


def translate(key: str, lang: str | None = None, /, **values) -> str:
    """The label KEY in LANG (the request's language by default), with {placeholders} filled."""
    lang = lang or current_language()
    entry = MESSAGES.get(key)
    if entry is None:
        # Unknown keys show themselves, so a missing label is visible but never breaks a page.
        text = key
    else:
        text = entry.get(lang) or entry[DEFAULT]
    return text.format(**values) if values else text


def label(prefix: str, value: str, lang: str | None = None, /) -> str:
    """The display name of a metadata value (kind, language, programme, status); the value itself if unknown."""
    key = f"{prefix}_{value}"
    if key in MESSAGES:
        return translate(key, lang)
    return value


def plural(key: str, n: int, lang: str | None = None, /) -> str:
    """KEY_one for 1, KEY otherwise (Chinese has one form; English two)."""
    if n == 1 and f"{key}_one" in MESSAGES:
        return translate(f"{key}_one", lang, n=n)
    return translate(key, lang, n=n)


def error_message(exc) -> str:
    """A SearchQueryError's message in the interface language, from its code and figures.

    The indexer's own message is the fallback for codes without a label here.
    """
    key = f"query_{getattr(exc, 'code', '')}"
    if key not in MESSAGES:
        return str(exc)
    try:
        return translate(key, **getattr(exc, "params", {}))
    except (KeyError, IndexError, ValueError):
        return str(exc)
