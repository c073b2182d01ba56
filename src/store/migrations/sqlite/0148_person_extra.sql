-- What a person is beyond its columns (api/persons_extra.c): the kana and kanji names and
-- addresses, gender, maiden_name, nationality, political_exposure, registered_address,
-- full_name_aliases, the verification documents' and documents[…] files, and whether a
-- secondary id number was given (never the number), as one JSON object: few persons have any of
-- them and no query reads them.
ALTER TABLE persons ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
