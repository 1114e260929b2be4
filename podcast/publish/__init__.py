"""Publishing the site: feeds, pages, local folder and S3, serving, checking."""
