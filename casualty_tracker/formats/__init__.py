"""Date and number formats per language (FORMAT_MODULE_PATH): Django's own, with two changes.

- English keeps the British formats the site had before it had languages ("25 Oct 2006",
  25/10/2006 in the admin), though its language code is the plain ``en``.
- Arabic writes numbers with Western digits and a comma between thousands (89, 2,000).
"""
