"""The book's machinery: chapters and their parameters (`chapters`), one chapter's run (`run`),
the whole build (`build`). Research code and chapters never import it."""
