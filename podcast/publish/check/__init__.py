"""`podcast check`: hold a published site to every rule of STANDARDS.md that its files can show.

The feed is read with lxml, and every URL in it is mapped to a file of the site by stripping the
channel's <link> (the show's base_url): a URL outside it is a problem, because podcast apps would
fetch it from somewhere `podcast publish` never wrote. The audio is measured from its MPEG frame
headers, not decoded, so checking a long episode takes a fraction of a second; `loudness=True`
adds one ffmpeg decode per episode for the loudness, true peak and clean-decoding rules.

site.py runs the checks and is what callers import; each other module holds the rules of one
subject: problems.py (the `Problem` each broken rule becomes), feed.py (the channel), items.py
(each <item>), media.py (the MP3: frames, ID3 tag, loudness), chapters.py (ID3, chapters.json and
psc:chapters), sidecars.py (transcripts, cover art, pages) and markup.py (the HTML in feed.xml and
newsletter.xml: nothing a feed reader would run).
"""
